"""Statistics: every grouping, scope and filter equals an independent sum over the raw energy
records and compliance rows, page after page; known inputs give hand-checked figures."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from tortoise import connections

from models import (
    Allowance,
    Application,
    ApplicationStatus,
    Document,
    EnergyMonthly,
    EnergyRecord,
    EnergyType,
    EnergyYearly,
    Enterprise,
    Notice,
    NoticeStatus,
    Sector,
)
from services.access import Actor
from services.codes import make_credit_code
from services.compliance.applications import compute_balance
from services.energy import aggregates
from services.energy import ingest as energy_ingest
from services.errors import ErrorCode
from services.statistics.dimensions import Dimension, StatisticsFilter
from services.statistics.page import EnergyUse, Row, page, stream
from tests.conftest import World
from tests.services.cycle import fails_with
from tests.services.effective import effective

D = Dimension
# Every dimension alone, then combinations: time and place, enterprise and type, and both
# time keys that share the year.
GROUPINGS: list[tuple[Dimension, ...]] = [(d,) for d in Dimension] + [
    (D.YEAR, D.PROVINCE),
    (D.ENTERPRISE, D.ENERGY_TYPE),
    (D.PROVINCE, D.QUARTER),
    (D.SECTOR, D.YEAR, D.INDUSTRY),
    (D.CITY, D.MONTH, D.ENERGY_TYPE),
    (D.QUARTER, D.MONTH),
    (D.ENERGY_TYPE, D.ENTERPRISE, D.YEAR),
]
# (region, industry, sector): three in Guangdong (two cities), two in Beijing, one in Shanghai,
# and one in Nanjing with compliance data but no energy record at all.
ENTERPRISES = [
    ("440113", "4411", Sector.POWER),
    ("440106", "3011", Sector.CEMENT),
    ("440305", "3110", Sector.STEEL),
    ("110105", "4411", Sector.POWER),
    ("110108", "2614", Sector.CHEMICAL),
    ("310115", "3120", Sector.STEEL),
    ("320102", "2221", Sector.PAPER),
]
UNITS = {
    "ELECTRICITY": ("MWh", "kWh"),
    "NATURAL_GAS": ("m3", "1e4Nm3"),
    "DIESEL": ("t", "kg"),
    "WATER": ("t",),
    "RAW_COAL": ("t",),  # no factor is published for raw coal: its records stay missing
}
YEARS = (2022, 2023, 2024)
# Notice statuses handed out in turn; FULFILLED notices have an approved application.
STATUSES = [
    NoticeStatus.ISSUED,
    NoticeStatus.FULFILLED,
    NoticeStatus.OVERDUE,
    NoticeStatus.UNDER_REVIEW,
    NoticeStatus.FULFILLED,
    NoticeStatus.REJECTED,
    NoticeStatus.ACKNOWLEDGED,
]
KEY_FIELDS = {
    D.YEAR: ("year",),
    D.QUARTER: ("year", "quarter"),
    D.MONTH: ("year", "month"),
    D.PROVINCE: ("province",),
    D.CITY: ("city",),
    D.REGION: ("region_code",),
    D.INDUSTRY: ("industry_code",),
    D.SECTOR: ("sector",),
    D.ENTERPRISE: ("enterprise_id",),
    D.ENERGY_TYPE: ("energy_type",),
}
ALL_FIELDS = ("year", "quarter", "month", "province", "city", "region_code", "industry_code", "sector", "enterprise_id", "energy_type")  # fmt: skip
BY_PERIOD = {D.QUARTER, D.MONTH, D.ENERGY_TYPE}  # groupings without compliance figures


# -- the data ------------------------------------------------------------------------------------


async def enterprise(region: str, industry: str, sector: Sector, n: int) -> Enterprise:
    return await Enterprise.create(
        name=f"统计企业 {n}",
        credit_code=make_credit_code(region, f"MB{n:06d}"),
        region_code=region,
        industry_code=industry,
        sector=sector,
    )


def energy_rows(enterprises: list[Enterprise], seed: int = 5) -> list[dict[str, str]]:
    """Records of 2 or 3 types in 7 months of each year, in various units, from one to three
    sources a month: a monthly figure typed in, imported or from a platform, and a meter's day
    readings (sometimes with its own monthly total). Only one value a month may count. Raw coal
    has no factor (none is published for it): missing."""
    rng = random.Random(seed)
    rows = []
    for company in enterprises:
        for year in YEARS:
            for month in sorted(rng.sample(range(1, 13), 7)):
                period = f"{year}-{month:02d}"
                for kind in rng.sample(sorted(UNITS), rng.choice((2, 3))):
                    for source in rng.sample(
                        ("MANUAL", "IMPORT", "PLATFORM", "IOT"), rng.choice((1, 1, 2, 3))
                    ):
                        if source != "IOT" or rng.random() < 0.3:
                            rows.append(row(company, period, kind, rng, source=source))
                        if source == "IOT":
                            for day in sorted(rng.sample(range(1, 29), rng.randint(1, 4))):
                                rows.append(row(company, f"{period}-{day:02d}", kind, rng, source="IOT"))
    return rows


def row(company: Enterprise, period: str, kind: str, rng: random.Random, source: str = "") -> dict[str, str]:
    quantity = Decimal(rng.randint(1, 5_000_000)).scaleb(-3)
    return {
        "credit_code": company.credit_code,
        "period": period,
        "energy_type": kind,
        "quantity": str(quantity),
        "unit": rng.choice(UNITS[kind]),
        "source": source,
    }


async def ingest(actor: Actor, rows: list[dict[str, str]]) -> None:
    """Through the import, as a regulator's file would come in, then the aggregates' refresh."""
    for start in range(0, len(rows), energy_ingest.MAX_ROWS_PER_CALL):
        result = await energy_ingest.import_rows(actor, rows[start : start + energy_ingest.MAX_ROWS_PER_CALL])
        assert result.error_count == 0, result.errors
    await aggregates.refresh()


async def compliance(regulator: Actor, enterprises: list[Enterprise]) -> None:
    """Allowances, notices in every status, and applications: for a FULFILLED notice a rejected
    one then an approved one, for others one under review or rejected (never counted). A few
    holes, and a 2021 allowance with nothing else in that year."""
    now = datetime.now(UTC)
    user = regulator.user_id
    allowances = [Allowance(enterprise_id=enterprises[0].id, year=2021, amount=1, updated_by_id=user)]
    notices: list[Notice] = []
    for i, company in enumerate(enterprises):
        for year in YEARS:
            if (i, year) != (2, 2024):
                amount = 1000 * (i + 1) + year % 10
                allowances.append(
                    Allowance(enterprise_id=company.id, year=year, amount=amount, updated_by_id=user)
                )
            if (i, year) != (5, 2022):
                notices.append(
                    Notice(
                        enterprise_id=company.id,
                        year=year,
                        status=STATUSES[len(notices) % len(STATUSES)],
                        allowance=1000 * (i + 1),
                        deadline=now + timedelta(days=30),
                        ack_window_hours=72,
                        offset_cap_ratio=Decimal("0.05"),
                        title=f"{year}",
                        body="-",
                        issued_by_id=user,
                        issued_at=now,
                    )
                )
    await Allowance.bulk_create(allowances)
    await Notice.bulk_create(notices)
    outcomes = {
        NoticeStatus.FULFILLED: [ApplicationStatus.REJECTED, ApplicationStatus.APPROVED],
        NoticeStatus.UNDER_REVIEW: [ApplicationStatus.UNDER_REVIEW],
        NoticeStatus.REJECTED: [ApplicationStatus.REJECTED],
    }
    applications = []
    index = {company.id: i for i, company in enumerate(enterprises)}
    for notice in await Notice.all().order_by("id"):
        for outcome in outcomes.get(notice.status, []):
            report = await Document.create(
                enterprise_id=notice.enterprise_id,
                filename="report.pdf",
                content_type="application/pdf",
                size=1,
                sha256="0" * 64,
                uploaded_by_id=user,
            )
            # Above the allowance for every other enterprise, whatever ids the database hands out;
            # some bought allowances or hold offsets (usable up to 5 % of the verified emissions),
            # which cover all of the gap for some and part of it for others.
            n = index[notice.enterprise_id]
            verified = notice.allowance + (250 if n % 2 == 0 else -150)
            purchased, offsets = (0, 0, 200, 100)[n % 4], (0, 80, 30, 0)[n % 4]
            balance = compute_balance(
                allowance=notice.allowance,
                verified_emissions=verified,
                offsets=offsets,
                purchased=purchased,
                offset_cap_ratio=notice.offset_cap_ratio,
            )
            applications.append(
                Application(
                    notice_id=notice.id,
                    enterprise_id=notice.enterprise_id,
                    status=outcome,
                    verified_emissions=verified,
                    offsets=offsets,
                    purchased_allowances=purchased,
                    allowance=notice.allowance,
                    usable_offsets=balance.usable_offsets,
                    balance=balance.balance,
                    offsets_over_cap=balance.offsets_over_cap,
                    report_id=report.id,
                    submitted_by_id=user,
                    submitted_at=now,
                )
            )
    await Application.bulk_create(applications)


@dataclass
class Dataset:
    """The raw rows statistics must add up to: records, never the aggregates."""

    enterprises: dict[int, Enterprise]
    units: dict[str, str]
    records: list[dict[str, Any]]
    allowances: list[dict[str, Any]]
    notices: list[dict[str, Any]]
    approved: list[dict[str, Any]]
    national: Actor
    members: dict[int, Actor] = field(default_factory=dict)

    @classmethod
    async def load(cls, national: Actor) -> Dataset:
        return cls(
            enterprises={e.id: e for e in await Enterprise.all()},
            units=dict(await EnergyType.all().values_list("code", "canonical_unit")),
            records=await EnergyRecord.all().values(
                "enterprise_id",
                "year",
                "month",
                "day",
                "energy_type_id",
                "source",
                "amount",
                "tce",
                "emissions",
            ),
            allowances=await Allowance.all().values("enterprise_id", "year", "amount"),
            notices=await Notice.all().values("enterprise_id", "year", "status"),
            approved=await Application.filter(status=ApplicationStatus.APPROVED).values(
                "enterprise_id",
                "notice__year",
                "notice__offset_cap_ratio",
                "verified_emissions",
                "allowance",
                "purchased_allowances",
                "offsets",
            ),
            national=national,
        )

    def expected(
        self,
        group_by: tuple[Dimension, ...],
        visible: Callable[[Enterprise], bool] = lambda e: True,
        where: StatisticsFilter = StatisticsFilter(),
    ) -> list[dict[str, Any]]:
        """Plain Python sums over the raw rows, grouped and sorted as statistics promise."""
        fields = list(dict.fromkeys(f for d in group_by for f in KEY_FIELDS[d]))
        start = (where.from_.year, where.from_.month) if where.from_ else (0, 0)
        end = (where.to.year, where.to.month) if where.to else (9999, 12)

        def wanted(company: Enterprise) -> bool:
            return (
                visible(company)
                and company.region_code.startswith(where.region_prefix or "")
                and company.industry_code.startswith(where.industry_code or "")
                and where.sector in (None, company.sector)
                and (where.enterprise_ids is None or company.id in where.enterprise_ids)
            )

        groups: dict[tuple[Any, ...], dict[str, Any]] = {}

        def group(company: Enterprise, year: int, month: int | None = None, kind: str | None = None) -> dict:
            values = {
                "year": year,
                "quarter": (month - 1) // 3 + 1 if month else None,
                "month": month,
                "province": company.region_code[:2],
                "city": company.region_code[:4],
                "region_code": company.region_code,
                "industry_code": company.industry_code,
                "sector": company.sector,
                "enterprise_id": company.id,
                "energy_type": kind,
            }
            key = tuple(values[f] for f in fields)
            if key not in groups:
                groups[key] = {
                    "key": {f: values[f] if f in fields else None for f in ALL_FIELDS},
                    "name": company.name if D.ENTERPRISE in group_by else None,
                    "energy": {},
                    "records": 0,
                    "missing": 0,
                    "allowances": 0,
                    "due": 0,
                    "fulfilled": 0,
                    "overdue": 0,
                    "verified": None,
                    "surplus": None,
                    "shortfalls": None,
                }
            return groups[key]

        for record in effective(self.records):
            company = self.enterprises[record["enterprise_id"]]
            kind = record["energy_type_id"]
            if not wanted(company) or not start <= (record["year"], record["month"]) <= end:
                continue
            if where.energy_types is not None and kind not in where.energy_types:
                continue
            figures = group(company, record["year"], record["month"], kind)
            sums = figures["energy"].setdefault(kind, [0, 0, 0])
            sums[0] += record["amount"]
            sums[1] += record["tce"] or 0
            sums[2] += record["emissions"] or 0
            figures["records"] += 1
            figures["missing"] += record["emissions"] is None
        if not BY_PERIOD & set(group_by):
            years = range(start[0], end[0] + 1)
            for allowance in self.allowances:
                company = self.enterprises[allowance["enterprise_id"]]
                if wanted(company) and allowance["year"] in years:
                    group(company, allowance["year"])["allowances"] += allowance["amount"]
            for notice in self.notices:
                company = self.enterprises[notice["enterprise_id"]]
                if wanted(company) and notice["year"] in years:
                    figures = group(company, notice["year"])
                    figures["due"] += 1
                    figures["fulfilled"] += notice["status"] == NoticeStatus.FULFILLED
                    figures["overdue"] += notice["status"] == NoticeStatus.OVERDUE
            for application in self.approved:
                company = self.enterprises[application["enterprise_id"]]
                if wanted(company) and application["notice__year"] in years:
                    figures = group(company, application["notice__year"])
                    verified = application["verified_emissions"]
                    # allowance + purchased + offsets up to the cap (whole tonnes, down) - verified
                    cap = int(verified * application["notice__offset_cap_ratio"])
                    balance = (
                        application["allowance"]
                        + application["purchased_allowances"]
                        + min(application["offsets"], cap)
                        - verified
                    )
                    figures["verified"] = (figures["verified"] or 0) + verified
                    figures["surplus"] = (figures["surplus"] or 0) + balance
                    figures["shortfalls"] = (figures["shortfalls"] or 0) + (balance < 0)
        return [shape_expected(groups[key], BY_PERIOD & set(group_by), self.units) for key in sorted(groups)]


def micro(value: int) -> Decimal:
    return Decimal(value).scaleb(-6)


def shape_expected(
    figures: dict[str, Any], by_period: set[Dimension], units: dict[str, str]
) -> dict[str, Any]:
    energy_list = [
        (kind, units[kind], micro(amount), micro(tce), micro(emissions))
        for kind, (amount, tce, emissions) in sorted(figures["energy"].items())
    ]
    shaped = {
        **figures["key"],
        "name": figures["name"],
        "energy": energy_list,
        "energy_tce": sum((use[3] for use in energy_list), Decimal(0)),
        "emissions": sum((use[4] for use in energy_list), Decimal(0)),
        "missing": figures["missing"],
        "completeness": (
            (Decimal(figures["records"] - figures["missing"]) / figures["records"]).quantize(
                Decimal("0.0001"), ROUND_DOWN
            )
            if figures["records"]
            else None
        ),
    }
    due, fulfilled = figures["due"], figures["fulfilled"]
    compliance = {
        "allowances": figures["allowances"],
        "verified": figures["verified"],
        "surplus": figures["surplus"],
        "shortfalls": figures["shortfalls"],
        "due": due,
        "fulfilled": fulfilled,
        "overdue": figures["overdue"],
        "rate": (Decimal(fulfilled) / due).quantize(Decimal("0.0001"), ROUND_HALF_UP) if due else None,
    }
    return shaped | ({k: None for k in compliance} if by_period else compliance)


def shape(row: Row) -> dict[str, Any]:
    """A statistics row in the shape of an expected one."""
    return {
        **{f: getattr(row, f) for f in ALL_FIELDS},
        "name": row.enterprise_name,
        "energy": [(u.energy_type, u.unit, u.quantity, u.tce, u.emissions) for u in row.energy],
        "energy_tce": row.energy_tce,
        "emissions": row.emissions,
        "missing": row.records_missing_factor,
        "completeness": row.completeness,
        "allowances": row.allowances,
        "verified": row.verified_emissions,
        "surplus": row.surplus,
        "shortfalls": row.shortfalls,
        "due": row.notices_due,
        "fulfilled": row.notices_fulfilled,
        "overdue": row.notices_overdue,
        "rate": row.compliance_rate,
    }


async def every_page(
    actor: Actor, group_by: tuple[Dimension, ...], where: StatisticsFilter = StatisticsFilter(), size: int = 4
) -> list[dict[str, Any]]:
    """All rows, read `size` at a time by following the cursors."""
    rows: list[dict[str, Any]] = []
    after = None
    for _ in range(1000):  # a cursor that does not move on would loop forever
        result = await page(actor, group_by, where, size, after)
        assert len(result.rows) <= size
        rows += [shape(r) for r in result.rows]
        if not result.has_next_page:
            return rows
        assert len(result.rows) == size, "a short page must be the last"
        after = result.rows[-1].cursor
    raise AssertionError("more than 1,000 pages: the cursor does not move on")


@pytest.fixture
async def dataset(world: World) -> Dataset:
    national = await world.regulator("")
    companies = [await enterprise(r, i, s, n) for n, (r, i, s) in enumerate(ENTERPRISES)]
    await ingest(national, energy_rows(companies[:-1]))
    await compliance(national, companies)
    data = await Dataset.load(national)
    assert len(data.records) > 300
    assert any(r["emissions"] is None for r in data.records), "the data needs records without a factor"
    assert any(r["emissions"] is not None for r in data.records)
    # Months sent by several sources, and day readings under a monthly total, are there to lose.
    counted = effective(data.records)
    assert len(data.records) - len(counted) > 100
    assert any(r["source"] == "IOT" and r["day"] for r in counted), "somewhere the meter's days count"
    return data


# -- correctness ---------------------------------------------------------------------------------


async def test_every_grouping_equals_an_independent_sum_over_the_records(dataset: Dataset) -> None:
    for group_by in GROUPINGS:
        expected = dataset.expected(group_by)
        assert len(expected) > 1, group_by
        assert await every_page(dataset.national, group_by) == expected, group_by


async def test_reading_the_rows_one_by_one_or_a_hundred_at_a_time_gives_the_same_rows(
    dataset: Dataset,
) -> None:
    group_by = (D.ENTERPRISE, D.ENERGY_TYPE, D.YEAR)
    expected = dataset.expected(group_by)
    assert await every_page(dataset.national, group_by, size=1) == expected
    assert await every_page(dataset.national, group_by, size=100) == expected
    streamed = [shape(r) async for r in stream(dataset.national, group_by, StatisticsFilter(), 7)]
    assert streamed == expected


async def test_an_enterprise_with_notices_but_no_energy_data_still_has_its_row(dataset: Dataset) -> None:
    nanjing = next(e for e in dataset.enterprises.values() if e.region_code == "320102")
    rows = await every_page(dataset.national, (D.ENTERPRISE,))
    [row] = [r for r in rows if r["enterprise_id"] == nanjing.id]
    assert row["energy"] == [] and row["emissions"] == 0 and row["due"] == 3
    assert row["name"] == nanjing.name
    # The 2021 allowance is the only compliance figure of 2021: a year of its own.
    [year] = [r for r in await every_page(dataset.national, (D.YEAR,)) if r["year"] == 2021]
    assert (year["allowances"], year["due"], year["energy"], year["rate"]) == (1, 0, [], None)


async def test_compliance_figures_are_null_when_grouping_by_quarter_month_or_energy_type(
    dataset: Dataset,
) -> None:
    compliance = ("allowances", "verified", "surplus", "shortfalls", "due", "fulfilled", "overdue", "rate")
    for group_by in [(D.QUARTER,), (D.MONTH,), (D.ENERGY_TYPE,), (D.ENTERPRISE, D.MONTH)]:
        rows = await every_page(dataset.national, group_by)
        assert rows and all(r[k] is None for r in rows for k in compliance), group_by
    rows = await every_page(dataset.national, (D.ENTERPRISE,))
    assert all(r["due"] is not None and r["allowances"] is not None for r in rows)
    assert any(r["verified"] is not None for r in rows) and any(
        r["surplus"] < 0 for r in rows if r["surplus"]
    )


@contextmanager
def statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The SQL every client of this backend runs meanwhile (transactions included: their
    wrappers inherit these methods), each still executed."""
    client_class = type(connections.get("default"))
    seen: list[str] = []
    with monkeypatch.context() as patch:
        for name in (
            "execute_query",
            "execute_query_dict",
            "execute_script",
            "execute_insert",
            "execute_many",
        ):
            method = getattr(client_class, name)

            def counted(self: Any, sql: str, *args: Any, _method: Any = method, **kwargs: Any) -> Any:
                seen.append(sql)
                return _method(self, sql, *args, **kwargs)

            patch.setattr(client_class, name, counted)
        yield seen


@pytest.mark.parametrize(
    ("start", "end", "table"),
    [
        (None, None, "energy_yearly"),
        (date(2023, 1, 1), date(2023, 12, 31), "energy_yearly"),
        (date(2022, 1, 15), None, "energy_yearly"),
        (date(2022, 3, 1), date(2023, 10, 31), "energy_monthly"),
        (date(2023, 2, 1), date(2023, 2, 1), "energy_monthly"),
        (None, date(2023, 6, 30), "energy_monthly"),
    ],
    ids=["all", "2023", "from 2022", "2022-03 to 2023-10", "2023-02", "to 2023-06"],
)
async def test_a_time_filter_is_right_whether_it_covers_whole_years_or_not(
    dataset: Dataset, monkeypatch: pytest.MonkeyPatch, start: date | None, end: date | None, table: str
) -> None:
    """Whole years read the yearly aggregates (60k rows a country-year rather than 720k)."""
    where = StatisticsFilter(from_=start, to=end)
    for group_by in [(D.YEAR,), (D.PROVINCE, D.YEAR), (D.ENTERPRISE,), (D.SECTOR, D.ENERGY_TYPE)]:
        with statements(monkeypatch) as seen:
            rows = await every_page(dataset.national, group_by, where, size=3)
        assert rows == dataset.expected(group_by, where=where), (group_by, start, end)
        used = {t for t in ("energy_yearly", "energy_monthly") for sql in seen if t in sql}
        assert used == {table}, (group_by, seen)
    with statements(monkeypatch) as seen:
        rows = await every_page(dataset.national, (D.QUARTER,), where)
    assert rows == dataset.expected((D.QUARTER,), where=where)
    assert not any("energy_yearly" in sql for sql in seen), "a quarter needs the months"


async def test_the_aggregates_rebuilt_from_scratch_give_the_same_statistics(dataset: Dataset) -> None:
    before = await every_page(dataset.national, (D.CITY, D.YEAR))
    await EnergyMonthly.all().delete()
    await EnergyYearly.all().delete()
    assert await every_page(dataset.national, (D.ENERGY_TYPE,), size=100) == []
    await aggregates.rebuild()
    assert await every_page(dataset.national, (D.CITY, D.YEAR)) == before


# -- scope ---------------------------------------------------------------------------------------


async def test_an_enterprise_user_sees_only_its_own_enterprise_in_every_grouping(
    dataset: Dataset, world: World
) -> None:
    shenzhen = next(e for e in dataset.enterprises.values() if e.region_code == "440305")
    member = await world.member(shenzhen)
    for group_by in GROUPINGS:
        expected = dataset.expected(group_by, visible=lambda e: e.id == shenzhen.id)
        assert expected, group_by
        assert await every_page(member, group_by) == expected, group_by
    # Asking for another enterprise narrows to nothing, never widens.
    other = next(e for e in dataset.enterprises.values() if e.region_code == "110105")
    assert await every_page(member, (D.ENTERPRISE,), StatisticsFilter(enterprise_ids=[other.id])) == []


async def test_a_guangdong_regulator_never_sees_beijing_figures_in_any_grouping(
    dataset: Dataset, world: World
) -> None:
    guangdong = await world.regulator("44")
    for group_by in GROUPINGS:
        rows = await every_page(guangdong, group_by)
        assert rows == dataset.expected(group_by, visible=lambda e: e.region_code.startswith("44")), group_by
    # Beijing's POWER enterprise adds nothing to the POWER total Guangdong sees.
    [power] = [r for r in await every_page(guangdong, (D.SECTOR,)) if r["sector"] == Sector.POWER]
    [national] = [r for r in await every_page(dataset.national, (D.SECTOR,)) if r["sector"] == Sector.POWER]
    assert power["emissions"] < national["emissions"] and power["due"] < national["due"]
    assert [r["province"] for r in await every_page(guangdong, (D.PROVINCE,))] == ["44"]
    assert await every_page(guangdong, (D.PROVINCE,), StatisticsFilter(region_prefix="11")) == []


async def test_a_city_regulator_sees_its_city_only(dataset: Dataset, world: World) -> None:
    guangzhou = await world.regulator("4401")
    rows = await every_page(guangzhou, (D.REGION, D.YEAR))
    assert rows == dataset.expected((D.REGION, D.YEAR), visible=lambda e: e.region_code.startswith("4401"))
    assert {r["region_code"] for r in rows} == {"440113", "440106"}


# -- filters -------------------------------------------------------------------------------------


FILTERS: dict[str, Callable[[Dataset], StatisticsFilter]] = {
    "regionPrefix 44": lambda d: StatisticsFilter(region_prefix="44"),
    "regionPrefix 4403": lambda d: StatisticsFilter(region_prefix="4403"),
    "industryCode 44": lambda d: StatisticsFilter(industry_code="44"),
    "industryCode 31": lambda d: StatisticsFilter(industry_code="31"),
    "sector STEEL": lambda d: StatisticsFilter(sector=Sector.STEEL),
    "two enterprises": lambda d: StatisticsFilter(enterprise_ids=sorted(d.enterprises)[1:3]),
    "no enterprise": lambda d: StatisticsFilter(enterprise_ids=[]),
    "electricity and water": lambda d: StatisticsFilter(energy_types=["WATER", "ELECTRICITY"]),
    "everything at once": lambda d: StatisticsFilter(
        from_=date(2022, 4, 1),
        to=date(2024, 2, 1),
        region_prefix="44",
        industry_code="3",
        energy_types=["DIESEL"],
    ),
}


@pytest.mark.parametrize("name", list(FILTERS))
async def test_a_filter_narrows_every_figure(dataset: Dataset, name: str) -> None:
    where = FILTERS[name](dataset)
    everything = await every_page(dataset.national, (D.YEAR,))
    for group_by in [(D.YEAR,), (D.ENTERPRISE, D.ENERGY_TYPE), (D.PROVINCE, D.SECTOR), (D.MONTH,)]:
        rows = await every_page(dataset.national, group_by, where, size=5)
        assert rows == dataset.expected(group_by, where=where), (name, group_by)
    if name != "no enterprise":
        assert await every_page(dataset.national, (D.YEAR,), where) != everything


async def test_an_energy_type_filter_leaves_the_compliance_figures_whole(dataset: Dataset) -> None:
    where = StatisticsFilter(energy_types=["WATER"])
    narrowed = {r["enterprise_id"]: r for r in await every_page(dataset.national, (D.ENTERPRISE,), where)}
    whole = {r["enterprise_id"]: r for r in await every_page(dataset.national, (D.ENTERPRISE,))}
    assert narrowed.keys() == whole.keys()
    for key, row in narrowed.items():
        assert [use[0] for use in row["energy"]] in ([], ["WATER"])
        assert row["emissions"] == 0  # water emits nothing without a factor
        assert (row["due"], row["allowances"], row["surplus"]) == (
            whole[key]["due"],
            whole[key]["allowances"],
            whole[key]["surplus"],
        )


# -- hand-checked figures ------------------------------------------------------------------------


async def test_1000_mwh_of_electricity_in_2022_emit_570_3_t(world: World) -> None:
    company = await world.enterprise("440113")
    regulator = await world.regulator("44")
    rows = [
        {"credit_code": company.credit_code, "period": "2022-03", "energy_type": "ELECTRICITY",
         "quantity": "600000", "unit": "kWh", "source": ""},
        {"credit_code": company.credit_code, "period": "2022-07-09", "energy_type": "ELECTRICITY",
         "quantity": "400", "unit": "MWh", "source": ""},
    ]  # fmt: skip
    await ingest(regulator, rows)
    result = await page(regulator, [D.YEAR, D.ENERGY_TYPE], StatisticsFilter(), 10, None)
    [row] = result.rows
    assert (row.year, row.energy_type, row.emissions) == (2022, "ELECTRICITY", Decimal("570.3"))
    assert row.energy_tce == Decimal("122.9")  # 0.1229 tce/MWh (GB/T 2589)
    assert row.energy == [EnergyUse("ELECTRICITY", "MWh", Decimal(1000), Decimal("122.9"), Decimal("570.3"))]
    assert row.records_missing_factor == 0 and not result.has_next_page


async def test_30_fulfilled_of_100_due_is_a_compliance_rate_of_0_3(world: World) -> None:
    regulator = await world.regulator("44")
    companies = [await world.enterprise("440113") for _ in range(10)]
    now = datetime.now(UTC)
    statuses = [NoticeStatus.FULFILLED] * 30 + [NoticeStatus.OVERDUE] * 20 + [NoticeStatus.ISSUED] * 50
    await Notice.bulk_create(
        [
            Notice(
                enterprise_id=companies[n % 10].id,
                year=2015 + n // 10,
                status=status,
                allowance=100,
                deadline=now,
                ack_window_hours=72,
                offset_cap_ratio=Decimal("0.05"),
                title="-",
                body="-",
                issued_by_id=regulator.user_id,
                issued_at=now,
            )
            for n, status in enumerate(statuses)
        ]
    )
    [row] = (await page(regulator, [D.PROVINCE], StatisticsFilter(), 10, None)).rows
    assert (row.notices_due, row.notices_fulfilled, row.notices_overdue) == (100, 30, 20)
    assert row.compliance_rate == Decimal("0.3")
    assert (row.allowances, row.verified_emissions, row.surplus, row.energy) == (0, None, None, [])
    # Per year: 3 of 10 fulfilled in 2015, 2016 and 2017, none after.
    years = (await page(regulator, [D.YEAR], StatisticsFilter(), 20, None)).rows
    assert [(r.year, r.compliance_rate) for r in years][:4] == [
        (2015, Decimal(1)),
        (2016, Decimal(1)),
        (2017, Decimal(1)),
        (2018, Decimal(0)),
    ]


async def test_a_rate_that_does_not_divide_evenly_is_rounded_to_4_decimals(world: World) -> None:
    regulator = await world.regulator("44")
    company = await world.enterprise("440113")
    now = datetime.now(UTC)
    await Notice.bulk_create(
        [
            Notice(enterprise_id=company.id, year=y, status=s, allowance=1, deadline=now, ack_window_hours=1,
                   offset_cap_ratio=Decimal(0), title="-", body="-", issued_by_id=regulator.user_id, issued_at=now)
            for y, s in [(2020, NoticeStatus.FULFILLED), (2021, NoticeStatus.ISSUED), (2022, NoticeStatus.FULFILLED)]
        ]
    )  # fmt: skip
    [row] = (await page(regulator, [D.ENTERPRISE], StatisticsFilter(), 10, None)).rows
    assert row.compliance_rate == Decimal("0.6667")


# -- bad input -----------------------------------------------------------------------------------


BAD_INPUT: list[tuple[str, list[Any], StatisticsFilter, int, str | None, ErrorCode, str]] = [
    ("no groupBy", [], StatisticsFilter(), 10, None, ErrorCode.INVALID_GROUP_BY, "groupBy"),
    ("twice", [D.YEAR, D.YEAR], StatisticsFilter(), 10, None, ErrorCode.INVALID_GROUP_BY, "groupBy"),
    ("unknown", ["WEEK"], StatisticsFilter(), 10, None, ErrorCode.INVALID_GROUP_BY, "groupBy"),
    ("from after to", [D.YEAR], StatisticsFilter(from_=date(2024, 2, 1), to=date(2024, 1, 31)), 10, None,
     ErrorCode.INVALID_DATE_RANGE, "from"),
    ("over 100 years", [D.YEAR], StatisticsFilter(from_=date(1990, 1, 1), to=date(2090, 1, 1)), 10, None,
     ErrorCode.INVALID_DATE_RANGE, "to"),
    ("region 4", [D.YEAR], StatisticsFilter(region_prefix="4"), 10, None, ErrorCode.INVALID_REGION_CODE,
     "regionPrefix"),
    ("region 99", [D.YEAR], StatisticsFilter(region_prefix="99"), 10, None, ErrorCode.INVALID_REGION_CODE,
     "regionPrefix"),
    ("industry x", [D.YEAR], StatisticsFilter(industry_code="C44"), 10, None, ErrorCode.INVALID_INDUSTRY_CODE,
     "industryCode"),
    ("energy type", [D.YEAR], StatisticsFilter(energy_types=["COAL_GAS"]), 10, None,
     ErrorCode.UNKNOWN_ENERGY_TYPE, "energyTypes"),
    ("too many ids", [D.YEAR], StatisticsFilter(enterprise_ids=list(range(1, 1002))), 10, None,
     ErrorCode.TOO_MANY_ITEMS, "enterpriseIds"),
    ("first -1", [D.YEAR], StatisticsFilter(), -1, None, ErrorCode.INVALID_PAGINATION, "first"),
    ("first 101", [D.YEAR], StatisticsFilter(), 101, None, ErrorCode.INVALID_PAGINATION, "first"),
    ("garbage cursor", [D.YEAR], StatisticsFilter(), 10, "not a cursor", ErrorCode.INVALID_CURSOR, "after"),
    ("json cursor", [D.YEAR], StatisticsFilter(), 10, "WzFd", ErrorCode.INVALID_CURSOR, "after"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("group_by", "where", "first", "after", "code", "field"),
    [case[1:] for case in BAD_INPUT],
    ids=[case[0] for case in BAD_INPUT],
)
async def test_bad_input_is_refused_with_its_code(
    world: World,
    group_by: list[Any],
    where: StatisticsFilter,
    first: int,
    after: str | None,
    code: ErrorCode,
    field: str,
) -> None:
    actor = await world.regulator("44")
    with fails_with(code, field):
        await page(actor, group_by, where, first, after)


async def test_a_cursor_works_only_with_the_grouping_it_came_from(dataset: Dataset) -> None:
    by_year = await page(dataset.national, [D.YEAR], StatisticsFilter(), 1, None)
    by_sector = await page(dataset.national, [D.SECTOR], StatisticsFilter(), 1, None)
    with fails_with(ErrorCode.INVALID_CURSOR, "after"):
        await page(dataset.national, [D.SECTOR], StatisticsFilter(), 1, by_year.rows[0].cursor)
    with fails_with(ErrorCode.INVALID_CURSOR, "after"):
        await page(dataset.national, [D.YEAR], StatisticsFilter(), 1, by_sector.rows[0].cursor)
    # The same grouping under another filter reads on from the same place.
    following = await page(
        dataset.national, [D.YEAR], StatisticsFilter(region_prefix="44"), 5, by_year.rows[0].cursor
    )
    first = by_year.rows[0].year
    assert first is not None
    assert all(r.year is not None and r.year > first for r in following.rows)


async def test_a_stream_refuses_bad_input_before_its_first_row(world: World) -> None:
    actor = await world.regulator("44")
    with fails_with(ErrorCode.INVALID_GROUP_BY, "groupBy"):
        async for _ in stream(actor, [], StatisticsFilter()):
            pass
    with fails_with(ErrorCode.INVALID_PAGINATION, "pageSize"):
        async for _ in stream(actor, [D.YEAR], StatisticsFilter(), page_size=0):
            pass


async def test_a_first_of_0_returns_no_row_but_says_whether_there_are_any(dataset: Dataset) -> None:
    result = await page(dataset.national, [D.YEAR], StatisticsFilter(), 0, None)
    assert (result.rows, result.has_next_page) == ([], True)


# -- cost ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "group_by", [(D.ENTERPRISE, D.MONTH), (D.PROVINCE, D.MONTH), (D.SECTOR, D.YEAR)], ids="+".join
)
async def test_a_page_costs_the_same_statements_whatever_its_size(
    dataset: Dataset, monkeypatch: pytest.MonkeyPatch, group_by: tuple[Dimension, ...]
) -> None:
    counts = []
    for size in (1, 2, 10):
        with statements(monkeypatch) as seen:
            result = await page(dataset.national, group_by, StatisticsFilter(), size, None)
        assert len(result.rows) == size and result.has_next_page
        counts.append(len(seen))
        assert not any("energy_records" in sql for sql in seen), "statistics never read the records"
    # One statement, or two for enterprises (the page, then its per-type breakdown); on
    # PostgreSQL one more sets JIT off for the transaction.
    assert counts[0] == counts[1] == counts[2] <= 3, counts
