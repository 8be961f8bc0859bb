"""Statistics benchmark: ingest ~7.2 million energy records, build the aggregates, time `statistics`.

    .venv/bin/python bench/statistics_bench.py [--enterprises 10000] [--years 10] [--runs 50] [--keep]
    .venv/bin/python bench/statistics_bench.py --database NAME    # only the queries, on a kept database

On a fresh PostgreSQL database (dropped at the end unless --keep), migrated and seeded:

1. `--enterprises` enterprises across the 31 provinces (3 to 12 cities each, several counties)
   and the 8 ETS sectors, each with a GB/T 4754 industry code of its sector.
2. An administrator sets national emission factors effective from the first year for the six
   energy types used (the shipped factors start in 2022-2026), as a regulator would.
3. Ingest through the bulk path: services.energy.EnergyImporter, the importer behind
   `POST /import/energy.csv` and `POST /ingest/energy`, fed one month at a time (every
   enterprise's six records of that month: 60,000 rows a call, each call one transaction),
   in time order as the data would arrive, `--streams` imports at once (default 2, as two
   gateways sending together: one import alone leaves a core idle while Python parses). Rows are dicts, as the JSON endpoint hands them
   over after json.loads; units vary (kWh, 万kWh, MWh, m3, 10^4Nm3, t, kg, GJ) and are converted.
   10 years x 12 months x 6 types x 10,000 enterprises = 7,200,000 records.
4. Aggregates: `aggregates.refresh()` (what the worker runs after each import) over the stale
   months the bulk load left (at this size one full rebuild), timed; then the steady state:
   one month re-sent (60,000 records upserted) and the refresh of its 10,000 enterprise-months;
   then `ccms rebuild-aggregates`'s `aggregates.rebuild()`.
5. Compliance data for the last three years (allowances, notices in every status, approved
   applications) with bulk_create, then VACUUM ANALYZE.
6. For each groupBy, `statistics` through GraphQL (the real ASGI app over httpx's
   ASGITransport: middleware, auth, strawberry, JSON) as the national regulator, first page of
   20, `--runs` times after a warm-up; printed as p50 and p95, next to the same aggregate run
   as hand-written SQL through asyncpg on the same tables in the same run, and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
from tortoise import Tortoise  # noqa: E402

from api.app import create_app  # noqa: E402
from bench.machine import header  # noqa: E402
from core import db as database  # noqa: E402
from core.settings import Settings  # noqa: E402
from models import (  # noqa: E402
    Allowance,
    Application,
    ApplicationStatus,
    Document,
    EnergyMonthly,
    EnergyRecord,
    Enterprise,
    Notice,
    NoticeStatus,
    Role,
    Sector,
    StaleMonth,
    User,
)
from services.access import Actor  # noqa: E402
from services.codes import make_credit_code  # noqa: E402
from services.energy import aggregates, factors  # noqa: E402
from services.energy.ingest import EnergyImporter  # noqa: E402
from services.identity import tokens  # noqa: E402
from services.identity.users import create_user  # noqa: E402
from tests.backends import PG_ADMIN_URL, create_pg_database, drop_pg_database  # noqa: E402

SECRET = "bench-secret-key-with-enough-entropy-0123456789"
PROVINCES = [
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
    "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
]  # fmt: skip
INDUSTRIES = {
    Sector.POWER: ["4411", "4412", "4430"],
    Sector.STEEL: ["3110", "3120"],
    Sector.CEMENT: ["3011"],
    Sector.ALUMINIUM: ["3216"],
    Sector.PETROCHEMICAL: ["2511"],
    Sector.CHEMICAL: ["2614", "2619", "2621"],
    Sector.PAPER: ["2221", "2222"],
    Sector.AVIATION: ["5611"],
}
# energy type -> (unit it arrives in, typical monthly quantity in that unit, bench factor from the first year)
ENERGY = {
    "ELECTRICITY": ("kWh", 4_000_000, "0.5703"),
    "NATURAL_GAS": ("m3", 300_000, "21.650152"),
    "BITUMINOUS_COAL": ("t", 8_000, "2.255713"),
    "DIESEL": ("kg", 20_000, "3.095910"),
    "GASOLINE": ("t", 5, "2.925056"),
    "PURCHASED_HEAT": ("GJ", 3_000, "0.11"),
}
PAGE = 20


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


async def enterprises(count: int) -> list[tuple[int, str]]:
    rng = random.Random(31)
    cities = {p: rng.randint(3, 12) for p in PROVINCES}
    sectors = list(INDUSTRIES)
    rows = []
    for n in range(count):
        province = PROVINCES[n % len(PROVINCES)]
        region = f"{province}{rng.randint(1, cities[province]):02d}{rng.randint(1, 9):02d}"
        sector = sectors[rng.randrange(len(sectors))]
        rows.append(
            Enterprise(
                name=f"企业 {n:05d} 有限公司",
                credit_code=make_credit_code(region, f"T{n:07d}"),
                region_code=region,
                industry_code=rng.choice(INDUSTRIES[sector]),
                sector=sector,
            )
        )
    await Enterprise.bulk_create(rows, batch_size=2000)
    return await Enterprise.all().order_by("id").values_list("id", "credit_code")


def month_rows(
    codes: list[str], year: int, month: int, scale: list[float]
) -> Iterator[tuple[int, dict[str, str]]]:
    period = f"{year}-{month:02d}"
    line = 0
    season = 1.0 + 0.15 * ((month - 7) / 6) ** 2  # more in winter
    for n, code in enumerate(codes):
        factor = scale[n] * season
        for energy_type, (unit, typical, _) in ENERGY.items():
            line += 1
            quantity = typical * factor * (1 + (line % 7 - 3) / 50)
            yield (
                line,
                {
                    "credit_code": code,
                    "period": period,
                    "energy_type": energy_type,
                    "quantity": f"{quantity:.3f}",
                    "unit": unit,
                    "source": "",
                },
            )


async def ingest(regulator: Actor, codes: list[str], years: range, streams: int) -> tuple[int, float]:
    rng = random.Random(7)
    scale = [rng.uniform(0.2, 3.0) for _ in codes]
    written = 0
    started = time.perf_counter()

    async def one(year: int, month: int) -> int:
        result = await EnergyImporter(regulator).run(month_rows(codes, year, month, scale))
        if result.error_count:
            raise SystemExit(f"ingest failed: {result.errors[:3]}")
        return result.written

    for year in years:
        for first in range(1, 13, streams):  # `streams` months at once, as several gateways would send
            months = range(first, min(first + streams, 13))
            written += sum(await asyncio.gather(*(one(year, month) for month in months)))
        elapsed = time.perf_counter() - started
        print(f"  {year}: {written:,} records, {written / elapsed:,.0f} records/s so far", flush=True)
    return written, time.perf_counter() - started


async def compliance(ids: list[int], years: range, admin: Actor) -> None:
    """Allowances, notices in every status and approved applications for the last three years."""
    rng = random.Random(11)
    first = ids[0]
    document = await Document.create(
        enterprise_id=first, filename="report.pdf", content_type="application/pdf", size=1, sha256="0" * 64,
        uploaded_by_id=admin.user_id,
    )  # fmt: skip
    now = datetime.now(UTC)
    statuses = list(NoticeStatus)
    for year in years[-3:]:
        await Allowance.bulk_create(
            [Allowance(enterprise_id=i, year=year, amount=rng.randint(50_000, 2_000_000), updated_by_id=admin.user_id) for i in ids],
            batch_size=2000,
        )  # fmt: skip
        await Notice.bulk_create(
            [
                Notice(
                    enterprise_id=i, year=year, status=rng.choice(statuses), allowance=1, deadline=now + timedelta(days=30),
                    ack_window_hours=72, offset_cap_ratio=0.05, title="履约通知", body="", issued_by_id=admin.user_id,
                    issued_at=now, ack_due_at=now + timedelta(hours=72),
                )
                for i in ids
            ],
            batch_size=2000,
        )  # fmt: skip
    fulfilled = await Notice.filter(status=NoticeStatus.FULFILLED).values_list("id", "enterprise_id")
    await Application.bulk_create(
        [
            Application(
                notice_id=n, enterprise_id=e, status=ApplicationStatus.APPROVED, verified_emissions=(v := rng.randint(40_000, 2_000_000)),
                offsets=0, purchased_allowances=0, allowance=v + rng.randint(-50_000, 50_000), usable_offsets=0, balance=0,
                offsets_over_cap=False, report_id=document.id, submitted_by_id=admin.user_id, submitted_at=now,
            )
            for n, e in fulfilled
        ],
        batch_size=2000,
    )  # fmt: skip


async def run(args: argparse.Namespace) -> None:
    var_dir = Path(tempfile.mkdtemp(prefix="ccms-bench-statistics-"))
    url: str | None = None
    years = range(2026 - args.years, 2026)
    try:
        if args.database:  # a database an earlier --keep run left: time the queries again
            url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{args.database}"
            await database.init_db(url)
            national = Actor.of(await User.get(username="bench_national"))
            await queries(args, url, var_dir, national, years)
            return
        url = await create_pg_database("ccms_bench_statistics")
        print(
            f"database {url.rsplit('/', 1)[1]} ({'kept' if args.keep else 'dropped at the end'})", flush=True
        )
        await database.migrate(url)
        await database.init_db(url)
        admin = Actor.of(
            await create_user(None, username="bench_admin", password="bench-password-1", role=Role.ADMIN)
        )
        national = Actor.of(
            await create_user(
                None, username="bench_national", password="bench-password-1", role=Role.REGULATOR
            )
        )
        started = time.perf_counter()
        rows = await enterprises(args.enterprises)
        ids, codes = [i for i, _ in rows], [c for _, c in rows]
        print(
            f"{len(ids):,} enterprises in {len(PROVINCES)} provinces, 8 sectors: {time.perf_counter() - started:.1f} s"
        )
        for energy_type, (_, _, value) in ENERGY.items():
            await factors.set_factor(
                admin,
                factors.FactorInput(
                    energy_type, years[0], value, source="bench: national default from the first year"
                ),
            )
        print(
            f"\ningest: {len(codes) * len(ENERGY) * 12 * len(years):,} records through services.energy.EnergyImporter,"
            f" one import a month, {args.streams} at once"
        )
        written, seconds = await ingest(national, codes, years, args.streams)
        print(
            f"ingest: {written:,} records in {seconds:.1f} s = {written / seconds:,.0f} records/s (target >= 50,000)"
        )
        stale = await StaleMonth.all().count()
        started = time.perf_counter()
        await aggregates.refresh()  # the worker's job: a backlog this large is one rebuild
        print(
            f"aggregates: the worker's refresh over {stale:,} stale enterprise-months (one full rebuild at this"
            f" size): {time.perf_counter() - started:.1f} s, {await EnergyMonthly.all().count():,} monthly rows"
        )
        connection = Tortoise.get_connection("default")
        await connection.execute_script("VACUUM ANALYZE")
        # The steady state: a month's data arrives again (corrected), then the worker refreshes it.
        rng = random.Random(3)
        scale = [rng.uniform(0.2, 3.0) for _ in codes]
        started = time.perf_counter()
        result = await EnergyImporter(national).run(month_rows(codes, years[-1], 12, scale))
        resent = time.perf_counter() - started
        stale = await StaleMonth.all().count()
        started = time.perf_counter()
        await aggregates.refresh()
        print(
            f"one month re-sent: {result.written:,} records upserted in {resent:.1f} s; the refresh of its"
            f" {stale:,} stale enterprise-months: {time.perf_counter() - started:.1f} s"
        )
        started = time.perf_counter()
        await aggregates.rebuild()
        print(
            f"ccms rebuild-aggregates (aggregates.rebuild) from {await EnergyRecord.all().count():,} records:"
            f" {time.perf_counter() - started:.1f} s"
        )
        await compliance(ids, years, admin)
        await connection.execute_script("VACUUM ANALYZE")
        await queries(args, url, var_dir, national, years)
    finally:
        await Tortoise.close_connections()
        if url is not None and not args.keep and not args.database:
            await drop_pg_database(url)
        shutil.rmtree(var_dir, ignore_errors=True)


STATISTICS = """
query Statistics($groupBy: [StatisticsDimension!]!, $filter: StatisticsFilterInput, $first: Int) {
  statistics(groupBy: $groupBy, filter: $filter, first: $first) {
    edges { cursor node {
      year quarter month province city regionCode industryCode sector energyType
      enterprise { id name }
      energy { energyType unit quantity tce emissions }
      energyTce emissions recordsMissingFactor allowances verifiedEmissions surplus
      noticesDue noticesFulfilled noticesOverdue complianceRate
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""
# groupBy -> (SQL key expressions over `a` (the aggregate) and `e` (enterprises), whole years?)
KEYS = {
    "YEAR": ["a.year"],
    "QUARTER": ["a.year", "(a.month + 2) / 3"],
    "MONTH": ["a.year", "a.month"],
    "PROVINCE": ["substr(e.region_code, 1, 2)"],
    "CITY": ["substr(e.region_code, 1, 4)"],
    "REGION": ["e.region_code"],
    "INDUSTRY": ["e.industry_code"],
    "SECTOR": ["e.sector"],
    "ENTERPRISE": ["e.id", "e.name"],
    "ENERGY_TYPE": ["a.energy_type_id"],
}
FIGURE_NAMES = (
    "tce",
    "emissions",
    "missing",
    "allowance",
    "verified",
    "surplus",
    "due",
    "fulfilled",
    "overdue",
)


def _part(keys: list[str], figures: dict[str, str], source: str, where: str) -> str:
    """One source's sums grouped by the keys: every figure it lacks is 0."""
    select = ", ".join(f"{k} AS k{i}" for i, k in enumerate(keys))
    sums = ", ".join(f"{figures.get(name, '0')} AS {name}" for name in FIGURE_NAMES)
    return f"SELECT {select}, {sums} FROM {source} WHERE {where} GROUP BY {', '.join(keys)}"


def plain_sql(dimension: str, whole_years: bool) -> tuple[str, str]:
    """The page's aggregate and its per-type breakdown as one would write them by hand: each source
    summed by the keys, the sums added up per group; enterprises joined only where a key needs them."""
    keys = KEYS[dimension]
    names = ", ".join(f"k{i}" for i in range(len(keys)))
    table = "energy_yearly" if whole_years else "energy_monthly"
    joined = any(k.startswith(("e.", "substr(e.")) for k in keys)
    energy_source = f"{table} a" + (" JOIN enterprises e ON e.id = a.enterprise_id" if joined else "")
    energy = {"tce": "SUM(a.tce)", "emissions": "SUM(a.emissions)", "missing": "SUM(a.missing_factors)"}
    parts = [_part(keys, energy, energy_source, "a.year BETWEEN $1 AND $2")]  # every case is whole years
    if dimension not in ("QUARTER", "MONTH", "ENERGY_TYPE"):
        year = [k.replace("a.year", "c.year") for k in keys]
        parts += [
            _part(year, {"allowance": "SUM(c.amount)"}, "allowances c JOIN enterprises e ON e.id = c.enterprise_id", "c.year BETWEEN $1 AND $2"),
            _part(
                year,
                {"due": "COUNT(*)", "fulfilled": "SUM(CASE WHEN c.status = 'FULFILLED' THEN 1 ELSE 0 END)",
                 "overdue": "SUM(CASE WHEN c.status = 'OVERDUE' THEN 1 ELSE 0 END)"},
                "notices c JOIN enterprises e ON e.id = c.enterprise_id",
                "c.year BETWEEN $1 AND $2",
            ),
            _part(
                year,
                {"verified": "SUM(p.verified_emissions)", "surplus": "SUM(p.allowance - p.verified_emissions)"},
                "applications p JOIN notices c ON c.id = p.notice_id JOIN enterprises e ON e.id = c.enterprise_id",
                "p.status = 'APPROVED' AND c.year BETWEEN $1 AND $2",
            ),
        ]  # fmt: skip
    sums = ", ".join(f"SUM({name})" for name in FIGURE_NAMES)
    page = (
        f"SELECT {names}, {sums} FROM ({' UNION ALL '.join(parts)}) u GROUP BY {names}"
        f" ORDER BY {names} LIMIT {PAGE + 1}"
    )
    select = ", ".join(f"{k} AS k{i}" for i, k in enumerate(keys))
    breakdown = (
        f"SELECT {select}, a.energy_type_id, SUM(a.amount), SUM(a.tce), SUM(a.emissions) FROM {energy_source}"
        f" WHERE a.year BETWEEN $1 AND $2 AND ({', '.join(keys)}) <= ({', '.join(f'${i + 3}' for i in range(len(keys)))})"
        f" GROUP BY {', '.join(keys)}, a.energy_type_id"
    )
    return page, breakdown


def cases(years: range) -> list[tuple[str, dict[str, Any], int, int, bool]]:
    """(groupBy, GraphQL filter, first year, last year, whole years) for each dimension."""
    last = years[-1]
    year = {"from": f"{last}-01-01", "to": f"{last}-12-31"}
    return [
        ("YEAR", {"from": f"{years[0]}-01-01", "to": f"{last}-12-31"}, years[0], last, True),
        ("QUARTER", year, last, last, False),
        ("MONTH", year, last, last, False),
        *((d, year, last, last, True) for d in ("PROVINCE", "CITY", "REGION", "INDUSTRY", "SECTOR", "ENTERPRISE", "ENERGY_TYPE")),
    ]  # fmt: skip


async def queries(args: argparse.Namespace, url: str, var_dir: Path, viewer: Actor, years: range) -> None:
    import asyncpg

    settings = Settings(
        var_dir=var_dir, database_url=url, secret_key=SECRET, upload_dir=var_dir / "uploads", demo=False,
        admin_password="bench-admin-password",
    )  # fmt: skip
    app = create_app(settings, manage_db=False)
    token = tokens.issue(viewer.user_id, SECRET, 3600)[0]
    plain = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    await plain.execute("SET jit = off")
    print(
        f"\nstatistics through GraphQL (httpx.ASGITransport, no socket) as the national regulator, first {PAGE},"
        f" {args.runs} runs after a warm-up; plain SQL: the same page and breakdown through asyncpg\n"
    )
    print(
        f"{'groupBy':<12} {'filter':<10} {'GraphQL p50':>11} {'p95':>7}   {'SQL p50':>8} {'p95':>7}   ratio   rows"
    )
    missed = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=120
    ) as client:
        for dimension, where, first_year, last_year, whole in cases(years):
            variables = {"groupBy": [dimension], "filter": where, "first": PAGE}

            async def graphql() -> list[dict]:
                response = await client.post(
                    "/graphql",
                    json={"query": STATISTICS, "variables": variables},  # noqa: B023
                    headers={"authorization": f"Bearer {token}"},
                )
                body = response.json()
                if response.status_code != 200 or body.get("errors"):
                    raise SystemExit(f"{dimension}: {response.status_code} {str(body)[:500]}")  # noqa: B023
                return body["data"]["statistics"]["edges"]

            page_sql, breakdown_sql = plain_sql(dimension, whole)

            async def sql() -> int:
                rows = await plain.fetch(page_sql, first_year, last_year)  # noqa: B023
                last = list(rows[PAGE - 1 if len(rows) >= PAGE else -1].values())[: len(KEYS[dimension])]  # noqa: B023
                await plain.fetch(breakdown_sql, first_year, last_year, *last)  # noqa: B023
                return len(rows)

            await graphql()
            await sql()
            api, direct = [], []
            edges: list[dict] = []
            for _ in range(args.runs):
                started = time.perf_counter()
                edges = await graphql()
                api.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                await sql()
                direct.append((time.perf_counter() - started) * 1000)
            p95, sql95 = percentile(api, 95), percentile(direct, 95)
            ratio = p95 / sql95
            label = "all years" if dimension == "YEAR" else str(last_year)
            print(
                f"{dimension:<12} {label:<10} {percentile(api, 50):>8.1f} ms {p95:>4.0f} ms"
                f"   {percentile(direct, 50):>5.1f} ms {sql95:>4.0f} ms   {ratio:>4.2f}x   {len(edges)}",
                flush=True,
            )
            if p95 >= 150 or ratio > 1.5:
                missed.append(dimension)
    await plain.close()
    print(
        "\ntarget: p95 under 150 ms and within 1.5x of plain SQL; "
        + ("missed by " + ", ".join(missed) if missed else "every groupBy within both")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--enterprises", type=int, default=10_000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument(
        "--streams", type=int, default=2, help="imports running at once (gateways sending together)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database (its name is printed)")
    parser.add_argument("--database", help="only time the queries, on a database a --keep run left")
    args = parser.parse_args()
    print("$ " + shlex.join([".venv/bin/python", "bench/statistics_bench.py", *sys.argv[1:]]))
    print(header(), flush=True)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
