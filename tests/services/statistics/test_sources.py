"""One value per enterprise-month: the same month from two sources and a meter's day series
counts once in every grouping; the regulator's order of sources decides which; and where the
sources disagree is listed, scoped, against an independent computation over the raw records."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from models import AuditEvent, EnergyMonthly, EnergyRecord, Sector, SourcePrecedence, StaleMonth
from services.access import Actor
from services.energy import aggregates, effective
from services.errors import ErrorCode
from services.statistics.dimensions import Dimension, StatisticsFilter
from services.statistics.discrepancies import discrepancies
from services.statistics.page import page
from tests.conftest import World
from tests.services.cycle import fails_with
from tests.services.effective import DEFAULT_ORDER
from tests.services.effective import effective as counted
from tests.services.statistics.test_statistics import (
    GROUPINGS,
    Dataset,
    energy_rows,
    enterprise,
    every_page,
    ingest,
)

D = Dimension


def electricity(company: Any, period: str, quantity: str, source: str, unit: str = "MWh") -> dict[str, str]:
    return {
        "credit_code": company.credit_code,
        "period": period,
        "energy_type": "ELECTRICITY",
        "quantity": quantity,
        "unit": unit,
        "source": source,
    }


@pytest.fixture
async def restored_order() -> AsyncIterator[None]:
    """Put the shipped order back after a test that changes it (the table is not emptied)."""
    yield
    for position, source in enumerate(DEFAULT_ORDER, start=1):
        await SourcePrecedence.filter(source=source).update(
            position=position, updated_by_id=None, updated_at=None
        )


@pytest.fixture
async def mixed(world: World) -> Dataset:
    """Guangzhou: March 2022 typed in (1,000 MWh), imported (1,000 MWh) and metered by the day
    (31 x 30 MWh); April 2022 metered only, by the day; May 2022 imported, and metered with a
    monthly total (1,100 MWh) besides its days. Beijing: March 2022 imported and from a platform."""
    national = await world.regulator("")
    guangzhou = await enterprise("440113", "4411", Sector.POWER, 1)
    beijing = await enterprise("110105", "4411", Sector.POWER, 2)
    rows = [
        electricity(guangzhou, "2022-03", "1000", "MANUAL"),
        electricity(guangzhou, "2022-03", "1000000", "IMPORT", "kWh"),
        *(electricity(guangzhou, f"2022-03-{d:02d}", "30", "IOT") for d in range(1, 32)),
        *(electricity(guangzhou, f"2022-04-{d:02d}", "20", "IOT") for d in range(1, 31)),
        electricity(guangzhou, "2022-05", "1000", "IMPORT"),
        electricity(guangzhou, "2022-05", "1100", "IOT"),
        *(electricity(guangzhou, f"2022-05-{d:02d}", "1", "IOT") for d in range(1, 11)),
        electricity(beijing, "2022-03", "400", "IMPORT"),
        electricity(beijing, "2022-03", "404", "PLATFORM"),
    ]
    await ingest(national, rows)
    return await Dataset.load(national)


async def test_the_same_month_from_two_sources_and_a_meters_days_counts_once_in_every_grouping(
    mixed: Dataset,
) -> None:
    for group_by in GROUPINGS:
        assert await every_page(mixed.national, group_by) == mixed.expected(group_by), group_by
    guangzhou = next(e for e in mixed.enterprises.values() if e.region_code == "440113")
    rows = {r["month"]: r for r in await every_page(mixed.national, (D.MONTH, D.ENTERPRISE), StatisticsFilter(enterprise_ids=[guangzhou.id]))}  # fmt: skip
    # The hand-checked anchor: 1,000 MWh in 2022 at 0.5703 is 570.3 t, not 2,930 MWh's 1,670.979 t.
    assert rows[3]["emissions"] == Decimal("570.3")
    assert rows[3]["energy"][0][2] == Decimal(1000)
    assert rows[4]["energy"][0][2] == Decimal(600)  # 30 days of 20 MWh: the only source
    assert rows[5]["energy"][0][2] == Decimal(1000)  # IMPORT over IOT, whose total beat its days
    assert rows[3]["completeness"] == 1


async def test_the_regulators_order_decides_and_the_months_it_changes_are_rebuilt(
    mixed: Dataset, world: World, restored_order: None
) -> None:
    admin = await world.admin()
    order = ("IOT", "PLATFORM", "IMPORT", "MANUAL")
    assert await effective.set_precedence(admin, list(order)) == list(order)
    assert [s.value for s in await effective.precedence()] == list(order)
    # Only the enterprise-months with more than one source are marked.
    marked = set(await StaleMonth.all().values_list("enterprise_id", "year", "month"))
    assert {(y, m) for _, y, m in marked} == {(2022, 3), (2022, 5)} and len(marked) == 3
    await aggregates.refresh()
    records = await EnergyRecord.all().values()
    for group_by in [(D.MONTH, D.ENTERPRISE), (D.YEAR,), (D.PROVINCE, D.ENERGY_TYPE)]:
        expected = Dataset(**{**mixed.__dict__, "records": records})
        mine = await every_page(mixed.national, group_by)
        assert mine == _with_order(expected, order).expected(group_by), group_by
    march = await EnergyMonthly.filter(year=2022, month=3, enterprise_id__in=[e for e in mixed.enterprises]).order_by("enterprise_id").values_list("amount", flat=True)  # fmt: skip
    assert list(march) == [930_000_000, 404_000_000]  # the meter's days; the platform's figure
    [event] = await AuditEvent.filter(action="energy.source_precedence_set")
    assert event.data == {"before": list(DEFAULT_ORDER), "after": list(order)}


def _with_order(data: Dataset, order: tuple[str, ...]) -> Dataset:
    """The dataset whose expected() applies another order: the records it counts, pre-chosen."""
    chosen = counted(data.records, order)
    return Dataset(**{**data.__dict__, "records": [{**r, "source": "MANUAL"} for r in chosen]})


async def test_an_order_that_does_not_name_every_source_once_is_refused_and_nothing_changes(
    world: World, restored_order: None
) -> None:
    admin = await world.admin()
    for bad in (
        ["IOT", "IMPORT", "MANUAL"],
        ["IOT", "IOT", "IMPORT", "MANUAL"],
        ["IOT", "IMPORT", "MANUAL", "FAX"],
    ):
        with fails_with(ErrorCode.INVALID_SOURCE_ORDER, "order"):
            await effective.set_precedence(admin, bad)
    assert [s.value for s in await effective.precedence()] == list(DEFAULT_ORDER)
    assert not await AuditEvent.filter(action="energy.source_precedence_set").exists()


async def test_only_administrators_and_national_regulators_set_the_order(
    world: World, restored_order: None
) -> None:
    enterprise_member = await world.member(await world.enterprise("440113"))
    for actor in (await world.regulator("44"), enterprise_member):
        with fails_with(ErrorCode.PERMISSION_DENIED):
            await effective.set_precedence(actor, ["IOT", "PLATFORM", "IMPORT", "MANUAL"])
    national = await world.regulator("")
    await effective.set_precedence(national, ["IMPORT", "MANUAL", "PLATFORM", "IOT"])
    assert [s.value for s in await effective.precedence()] == ["IMPORT", "MANUAL", "PLATFORM", "IOT"]


# -- discrepancies ---------------------------------------------------------------------------


def expected_discrepancies(
    data: Dataset, share: Decimal, visible: Any = lambda e: True, where: StatisticsFilter = StatisticsFilter()
) -> list[tuple[Any, ...]]:
    """Plain Python over the raw records: each source's month (its monthly record, else its days),
    the first in the default order as the effective one, and those differing by more than `share`."""
    months: dict[tuple[Any, ...], dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for r in data.records:
        company = data.enterprises[r["enterprise_id"]]
        if not visible(company) or not company.region_code.startswith(where.region_prefix or ""):
            continue
        key = (r["year"], r["month"], r["enterprise_id"], r["energy_type_id"])
        months[key][str(r["source"])].append(r)
    found = []
    for key in sorted(months):
        figures = []
        for source in sorted(months[key], key=DEFAULT_ORDER.index):
            records = [r for r in months[key][source] if r["day"] == 0] or months[key][source]
            figures.append((source, Decimal(sum(r["amount"] for r in records)).scaleb(-6), len(records)))
        chosen = figures[0][1]
        if len(figures) > 1 and any(abs(q - chosen) > share * chosen for _, q, _ in figures):
            deviation = (
                (max(abs(q - chosen) for _, q, _ in figures) / chosen).quantize(
                    Decimal("0.0001"), ROUND_HALF_UP
                )
                if chosen
                else None
            )
            found.append((*key, figures[0][0], deviation, figures))
    return found


async def every_discrepancy(actor: Actor, share: Decimal, where: StatisticsFilter = StatisticsFilter(), size: int = 5) -> list[tuple[Any, ...]]:  # fmt: skip
    rows, after = [], None
    for _ in range(1000):
        result = await discrepancies(actor, where, share=share, first=size, after=after)
        rows += [
            (
                d.year,
                d.month,
                d.enterprise_id,
                d.energy_type,
                d.effective_source.value,
                d.deviation,
                [(f.source.value, f.quantity, f.records) for f in d.figures],
            )
            for d in result.rows
        ]
        if not result.has_next_page:
            return rows
        after = result.rows[-1].cursor
    raise AssertionError("the cursor does not move on")


async def test_the_discrepancies_of_the_mixed_month_are_the_meters_seven_percent(mixed: Dataset) -> None:
    result = await discrepancies(mixed.national, StatisticsFilter(), share=Decimal("0.05"))
    march, may = result.rows
    assert (march.year, march.month, march.effective_source.value) == (2022, 3, "MANUAL")
    assert [(f.source.value, f.quantity, f.records, f.effective) for f in march.figures] == [
        ("MANUAL", Decimal(1000), 1, True),
        ("IMPORT", Decimal(1000), 1, False),
        ("IOT", Decimal(930), 31, False),
    ]
    assert march.deviation == Decimal("0.07") and march.unit == "MWh"
    assert [(f.source.value, f.quantity, f.records) for f in may.figures] == [
        ("IMPORT", Decimal(1000), 1),
        ("IOT", Decimal(1100), 1),  # the meter's monthly total supersedes its days
    ]
    # Exactly 7 % is not more than 7 %.
    assert [d.month for d in (await discrepancies(mixed.national, StatisticsFilter(), share=Decimal("0.07"))).rows] == [5]  # fmt: skip
    # May: IMPORT 1,000 against the meter's 1,100 (its monthly total): 10 %. Beijing: 1 %.
    assert [(d.month, d.deviation) for d in (await discrepancies(mixed.national, StatisticsFilter(), share=Decimal("0.01"))).rows] == [(3, Decimal("0.07")), (5, Decimal("0.1"))]  # fmt: skip
    assert len((await discrepancies(mixed.national, StatisticsFilter(), share=Decimal("0.009"))).rows) == 3
    assert (await discrepancies(mixed.national, StatisticsFilter(), share=Decimal("0.1"))).rows == []


@pytest.fixture
async def dataset(world: World) -> Dataset:
    national = await world.regulator("")
    companies = [await enterprise(r, i, s, n) for n, (r, i, s) in enumerate(ENTERPRISES_SMALL)]
    await ingest(national, energy_rows(companies))
    return await Dataset.load(national)


ENTERPRISES_SMALL = [
    ("440113", "4411", Sector.POWER),
    ("440305", "3110", Sector.STEEL),
    ("110105", "4411", Sector.POWER),
]


@pytest.mark.parametrize("share", [Decimal(0), Decimal("0.05"), Decimal("0.5"), Decimal(2)])
async def test_every_discrepancy_equals_an_independent_computation(dataset: Dataset, share: Decimal) -> None:
    expected = expected_discrepancies(dataset, share)
    if share < 1:
        assert expected, "the data must disagree somewhere"
    assert await every_discrepancy(dataset.national, share) == expected


async def test_discrepancies_are_scoped_and_filtered_like_statistics(dataset: Dataset, world: World) -> None:
    share = Decimal("0.05")
    guangdong = await world.regulator("44")
    mine = await every_discrepancy(guangdong, share)
    assert mine == expected_discrepancies(dataset, share, visible=lambda e: e.region_code.startswith("44"))
    assert mine and len(mine) < len(expected_discrepancies(dataset, share))
    shenzhen = next(e for e in dataset.enterprises.values() if e.region_code == "440305")
    member = await world.member(shenzhen)
    assert await every_discrepancy(member, share) == expected_discrepancies(dataset, share, visible=lambda e: e.id == shenzhen.id)  # fmt: skip
    beijing_only = StatisticsFilter(region_prefix="11")
    assert await every_discrepancy(guangdong, share, beijing_only) == []
    assert await every_discrepancy(dataset.national, share, beijing_only) == expected_discrepancies(dataset, share, where=beijing_only)  # fmt: skip
    in_2023 = await every_discrepancy(dataset.national, share, StatisticsFilter(from_=date(2023, 1, 1), to=date(2023, 12, 1)))  # fmt: skip
    assert in_2023 == [d for d in expected_discrepancies(dataset, share) if d[0] == 2023]


@pytest.mark.parametrize("share", ["-0.01", "10.5", "0.00001", "abc", "NaN"])
async def test_a_bad_share_is_a_coded_error(world: World, share: str) -> None:
    with fails_with(ErrorCode.INVALID_DISCREPANCY_SHARE, "share"):
        await discrepancies(await world.regulator(""), StatisticsFilter(), share=share)


async def test_statistics_of_an_enterprise_month_and_its_discrepancy_agree_on_the_effective_value(
    dataset: Dataset,
) -> None:
    rows = await every_discrepancy(dataset.national, Decimal(0))
    statistics = {
        (r.year, r.month, r.enterprise_id, u.energy_type): u.quantity
        for r in (await page(dataset.national, (D.MONTH, D.ENTERPRISE, D.ENERGY_TYPE), StatisticsFilter(), 100, None)).rows
        for u in r.energy
    }  # fmt: skip
    checked = [row for row in rows if (row[0], row[1], row[2], row[3]) in statistics]
    assert checked
    for row in checked:
        assert statistics[(row[0], row[1], row[2], row[3])] == row[6][0][1]
