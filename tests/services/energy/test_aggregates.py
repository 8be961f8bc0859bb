"""Monthly and yearly energy aggregates: rebuilt from the records of the stale enterprise-months
only, equal to an independent sum over the records, and the same whether built incrementally
or from scratch."""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Any

import pytest

from models import EnergyMonthly, EnergyRecord, EnergyType, EnergyYearly, Enterprise, StaleMonth
from services.access import Actor
from services.energy import aggregates, ingest
from services.energy.ingest import EnergyImporter, import_rows
from tests.conftest import World
from tests.services.effective import effective

Key = tuple[Any, ...]
FIGURES = ("amount", "tce", "emissions", "records", "missing_factors", "missing_tce")


def row(enterprise: Enterprise, period: str, energy_type: str = "ELECTRICITY", quantity: str = "100", unit: str = "MWh", source: str = "") -> dict[str, str]:  # fmt: skip
    return {
        "credit_code": enterprise.credit_code,
        "period": period,
        "energy_type": energy_type,
        "quantity": quantity,
        "unit": unit,
        "source": source,
    }


async def monthly(*, ids: bool = False) -> dict[Key, tuple[int, ...]]:
    """(enterprise, year, month, type) -> its figures (and its row id, to tell a rewritten row)."""
    return {
        (m.enterprise_id, m.year, m.month, m.energy_type_id): (
            *(getattr(m, f) for f in FIGURES),
            *((m.id,) if ids else ()),
        )
        for m in await EnergyMonthly.all()
    }


async def yearly(*, ids: bool = False) -> dict[Key, tuple[int, ...]]:
    return {
        (y.enterprise_id, y.year, y.energy_type_id): (
            *(getattr(y, f) for f in FIGURES),
            *((y.id,) if ids else ()),
        )
        for y in await EnergyYearly.all()
    }


async def send(actor: Actor, rows: list[dict[str, str]]) -> None:
    result = await EnergyImporter(actor).run(enumerate(rows, start=1))
    assert (result.written, result.errors) == (len(rows), [])


async def test_a_month_counts_one_source_and_its_monthly_record_over_its_days(world: World) -> None:
    enterprise = await world.enterprise("440113")
    e = enterprise.id
    await import_rows(
        await world.regulator("44"),
        [
            row(enterprise, "2024-03", quantity="100"),
            row(enterprise, "2024-03-01", quantity="10"),
            row(enterprise, "2024-03-02", quantity="20000", unit="kWh", source="IOT"),
            row(enterprise, "2024-03", "RAW_COAL", "5", "t"),  # no factor
            row(enterprise, "2024-04", "DIESEL", "2", "t"),
            row(enterprise, "2023-11", "DIESEL", "1", "t"),  # the earlier guideline's diesel factor
        ],
    )
    assert await aggregates.refresh() == 3  # (e, 2024, 3), (e, 2024, 4), (e, 2023, 11)
    assert not await StaleMonth.exists()
    # amount, tce, emissions (millionths), records, missing factors, missing tce
    assert await monthly() == {
        # MANUAL's 100 MWh: its monthly record over its day (10 MWh), and MANUAL over IOT (20 MWh).
        # x 0.1229 tce, x 0.4042 tCO2 (South grid 2023 factor, the latest for 2024)
        (e, 2024, 3, "ELECTRICITY"): (100_000_000, 12_290_000, 40_420_000, 1, 0, 0),
        (e, 2024, 3, "RAW_COAL"): (5_000_000, 3_571_500, 0, 1, 1, 0),  # 5 t x 0.7143 tce
        (e, 2024, 4, "DIESEL"): (2_000_000, 2_914_200, 6_191_819, 1, 0, 0),  # 2 t x 1.4571, x 3.0959096373
        # the 2013-2015 guideline default before 2024: 43.330 x 0.02020 x 0.98 x 44/12 = 3.1451224933
        (e, 2023, 11, "DIESEL"): (1_000_000, 1_457_100, 3_145_122, 1, 0, 0),
    }
    assert await yearly() == {
        (e, 2024, "ELECTRICITY"): (100_000_000, 12_290_000, 40_420_000, 1, 0, 0),
        (e, 2024, "RAW_COAL"): (5_000_000, 3_571_500, 0, 1, 1, 0),
        (e, 2024, "DIESEL"): (2_000_000, 2_914_200, 6_191_819, 1, 0, 0),
        (e, 2023, "DIESEL"): (1_000_000, 1_457_100, 3_145_122, 1, 0, 0),
    }


async def test_a_type_without_a_tce_coefficient_is_counted_missing(world: World) -> None:
    await EnergyType.create(code="BIOGAS", name="沼气 biogas", canonical_unit="1e4Nm3")
    enterprise = await world.enterprise("440113")
    await import_rows(
        await world.regulator("44"),
        [row(enterprise, "2024-05", "BIOGAS", "30000", "m3"), row(enterprise, "2024-05-02", "BIOGAS", "2", "万立方米")],
    )  # fmt: skip
    await aggregates.refresh()
    # The monthly 3 x 10^4 Nm3 supersedes the day's 2.
    assert await monthly() == {(enterprise.id, 2024, 5, "BIOGAS"): (3_000_000, 0, 0, 1, 1, 1)}
    assert await yearly() == {(enterprise.id, 2024, "BIOGAS"): (3_000_000, 0, 0, 1, 1, 1)}


async def test_a_refresh_rewrites_only_the_stale_months(world: World) -> None:
    first, second = await world.enterprise("440113"), await world.enterprise("440113")
    regulator = await world.regulator("44")
    await send(
        regulator,
        [
            row(first, "2024-01"),
            row(first, "2024-02"),
            row(first, "2023-01"),
            row(second, "2024-02"),
        ],
    )
    await aggregates.refresh()
    # Edit aggregates by hand: a refresh that rewrote these rows would undo the edits.
    await EnergyMonthly.filter(enterprise_id=first.id, year=2024, month=1).update(amount=1)
    await EnergyMonthly.filter(enterprise_id=second.id, year=2024, month=2).update(amount=2)
    await EnergyYearly.filter(enterprise_id=first.id, year=2023).update(amount=3)
    await EnergyYearly.filter(enterprise_id=second.id, year=2024).update(amount=4)
    before = await monthly(ids=True)
    await send(regulator, [row(first, "2024-02", quantity="250")])
    assert {tuple(s) for s in await StaleMonth.all().values_list("enterprise_id", "year", "month")} == {(first.id, 2024, 2)}  # fmt: skip
    assert await aggregates.refresh() == 1
    after = await monthly(ids=True)
    assert {k for k in before if before[k] != after[k]} == {(first.id, 2024, 2, "ELECTRICITY")}
    assert after[(first.id, 2024, 2, "ELECTRICITY")][:4] == (250_000_000, 30_725_000, 101_050_000, 1)
    assert after[(first.id, 2024, 1, "ELECTRICITY")][0] == 1  # untouched: the hand edit survives
    years = await yearly()
    # The stale month's year is summed again from its months, hand-edited January included.
    assert years[(first.id, 2024, "ELECTRICITY")][0] == 1 + 250_000_000
    assert years[(first.id, 2023, "ELECTRICITY")][0] == 3
    assert years[(second.id, 2024, "ELECTRICITY")][0] == 4


async def test_refreshing_twice_changes_nothing(world: World) -> None:
    enterprise = await world.enterprise("440113")
    await send(
        await world.regulator("44"),
        [row(enterprise, "2024-01"), row(enterprise, "2024-02", "WATER", "9", "t")],
    )
    assert await aggregates.refresh() > 0
    before = (await monthly(ids=True), await yearly(ids=True))
    assert await aggregates.refresh() == 0
    assert (await monthly(ids=True), await yearly(ids=True)) == before


async def test_sending_a_record_again_replaces_its_share_of_the_aggregates(world: World) -> None:
    enterprise = await world.enterprise("110105")
    regulator = await world.regulator("11")
    await send(
        regulator, [row(enterprise, "2023-06", quantity="100"), row(enterprise, "2023-06-01", quantity="5")]
    )
    await aggregates.refresh()
    await send(regulator, [row(enterprise, "2023-06", quantity="300")])
    await aggregates.refresh()
    # 300 MWh x 0.6361 (North grid) = 190.83 t: the new monthly figure, which supersedes the
    # day's 5 MWh; not 405 MWh over three records, nor 305 over two
    assert await monthly() == {
        (enterprise.id, 2023, 6, "ELECTRICITY"): (300_000_000, 36_870_000, 190_830_000, 1, 0, 0)
    }


# ---------------------------------------------------------------- against the records


async def generated(world: World) -> list[Enterprise]:
    """Records across regions, years, months, days, sources and types, some without a factor."""
    rng = random.Random(20240501)
    enterprises = [await world.enterprise(region) for region in ("440113", "440303", "110105", "150402")]
    regulator = await world.regulator("")
    kinds = [
        ("ELECTRICITY", "kWh"),
        ("NATURAL_GAS", "m3"),
        ("DIESEL", "kg"),
        ("RAW_COAL", "t"),
        ("WATER", "m3"),
        ("PURCHASED_HEAT", "GJ"),
    ]
    rows = []
    for enterprise in enterprises:
        for year in (2021, 2023, 2024):
            for month in range(1, 13):
                for energy_type, unit in rng.sample(kinds, 3):
                    rows.append(row(enterprise, f"{year}-{month:02d}", energy_type, f"{rng.randint(1, 10**7) / 1000}", unit))  # fmt: skip
                if rng.random() < 0.3:
                    day = f"{year}-{month:02d}-{rng.randint(1, 28):02d}"
                    rows.append(row(enterprise, day, "ELECTRICITY", str(rng.randint(1, 5000)), "kWh", "IOT"))
    await send(regulator, rows)
    return enterprises


def summed(records: list[dict[str, Any]], key: tuple[str, ...]) -> dict[Key, tuple[int, ...]]:
    sums: dict[Key, list[int]] = defaultdict(lambda: [0] * 6)
    for r in records:
        figures = sums[tuple(r[k] for k in key)]
        figures[0] += r["amount"]
        figures[1] += r["tce"] or 0
        figures[2] += r["emissions"] or 0
        figures[3] += 1
        figures[4] += r["emissions"] is None
        figures[5] += r["tce"] is None
    return {k: tuple(v) for k, v in sums.items()}


async def test_the_aggregates_equal_a_sum_over_the_records_in_python(world: World) -> None:
    await generated(world)
    assert await aggregates.refresh() > 0
    records = await EnergyRecord.all().values()
    assert any(r["emissions"] is None for r in records) and any(r["day"] for r in records)
    assert await monthly() == summed(effective(records), ("enterprise_id", "year", "month", "energy_type_id"))
    assert await yearly() == summed(effective(records), ("enterprise_id", "year", "energy_type_id"))


async def test_a_year_is_the_sum_of_its_months(world: World) -> None:
    await generated(world)
    await aggregates.refresh()
    years: dict[Key, list[int]] = defaultdict(lambda: [0] * 6)
    for (e, y, _, t), figures in (await monthly()).items():
        years[(e, y, t)] = [a + b for a, b in zip(years[(e, y, t)], figures, strict=True)]
    assert await yearly() == {k: tuple(v) for k, v in years.items()}


async def test_a_rebuild_from_scratch_equals_the_incremental_refreshes(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(aggregates, "REFRESH_BATCH", 7)  # several batches of marks
    enterprises = await generated(world)
    marks = await StaleMonth.all().count()
    assert await aggregates.refresh() == marks > 7
    regulator = await world.regulator("")
    await send(regulator, [row(enterprises[0], "2024-02", "DIESEL", "3", "t"), row(enterprises[2], "2021-07", "WATER", "1", "t")])  # fmt: skip
    await aggregates.refresh()
    incremental = (await monthly(), await yearly())
    # Damage the aggregates and leave a mark: the rebuild derives everything from the records.
    await EnergyMonthly.filter(year=2023).delete()
    await EnergyYearly.filter(year=2024).update(emissions=0)
    await StaleMonth.create(enterprise_id=enterprises[1].id, year=2024, month=1)
    assert await aggregates.rebuild() == 1  # the marks it cleared
    assert (await monthly(), await yearly()) == incremental
    assert not await StaleMonth.exists()


async def test_a_backlog_of_marks_above_the_threshold_is_one_rebuild(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    enterprises = await generated(world)
    await aggregates.refresh()
    await EnergyMonthly.filter(enterprise_id=enterprises[3].id, year=2021).update(amount=0)  # not marked
    monkeypatch.setattr(aggregates, "REBUILD_ABOVE", 2)
    await send(await world.regulator(""), [row(enterprises[0], f"2024-{m:02d}", "LPG", "1", "t") for m in (1, 2, 3)])  # fmt: skip
    assert await aggregates.refresh() == 3
    # Every aggregate was derived again, the hand-edited months nobody marked included.
    records = await EnergyRecord.all().values()
    assert await monthly() == summed(effective(records), ("enterprise_id", "year", "month", "energy_type_id"))
    assert await yearly() == summed(effective(records), ("enterprise_id", "year", "energy_type_id"))
    assert not await StaleMonth.exists()


async def test_the_largest_accepted_quantities_still_aggregate(world: World) -> None:
    """A month of day records at the quantity cap, from two sources, sums within a BIGINT."""
    enterprise = await world.enterprise("440113")
    cap = str(ingest.MAX_QUANTITY)
    rows = [
        row(enterprise, f"2024-{month:02d}-{day:02d}", quantity=cap, source=source)
        for source in ("IOT", "PLATFORM")
        for month in range(1, 13)
        for day in range(1, 29)
    ]
    await send(await world.regulator("44"), rows)
    await aggregates.refresh()
    months = await monthly()
    assert len(months) == 12
    assert {figures[:4:3] for figures in months.values()} == {(28 * int(ingest.MAX_QUANTITY) * 10**6, 28)}
    (figures,) = (await yearly()).values()  # one source's days, a year of them
    assert figures[0] == 12 * 28 * int(ingest.MAX_QUANTITY) * 10**6
