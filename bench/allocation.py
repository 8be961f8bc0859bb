"""Allocation benchmark: `previewAllocation` over GraphQL for 10,000 enterprises, each rule.

    .venv/bin/python bench/allocation.py [--enterprises 10000] [--runs 5] [--profile RULE]

Creates a fresh PostgreSQL database (dropped at the end, even on error), migrates and seeds
it, and builds `--enterprises` Guangdong power enterprises with five base years (2020-2024)
of verified emissions, energy use (electricity in kWh, natural gas in m3, diesel in t: the
importer converts them) and output (coal or gas power, some heat). The history goes in
through the service's bulk path: one streamed CSV file into services.history's importer,
as `POST /import/history.csv` does. One in a hundred enterprises has no history at all
(listed for manual input by every rule but DIRECT and EQUAL).

It then times `previewAllocation` for each rule through the real ASGI app (create_app,
middleware, bearer-token auth, strawberry) in this process over httpx's ASGITransport: no
socket, so the figures are the server's work plus the client's JSON encoding and decoding
of the ~1 MB response. Each rule runs once to warm up, then `--runs` times; the script
prints the median and the maximum, and beside them the time of services.allocation.compute
alone (no GraphQL, no audit event) to show where the time goes. The query asks for every
line (amount, basis, enterprise id) and the manual list.

  HISTORICAL_EMISSIONS  total given, default base years (the last 3 with data)
  BENCHMARK             total below the benchmark sum and a floor of 0.8 x verified
                        emissions: the uniform scale factor is searched with floors in play
  ENERGY_PROPORTIONAL   total given, tce with the seeded GB/T 2589 coefficients
  EQUAL                 total given
  DIRECT                10,000 entries in the request's variables

`--profile RULE` runs that rule's preview once more under cProfile and prints the top
functions by cumulative time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import random
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from decimal import Decimal
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
from models import AllocationRule, Enterprise, Role, Sector  # noqa: E402
from services.access import Actor  # noqa: E402
from services.allocation.history import HistoryImporter, csv_rows  # noqa: E402
from services.allocation.rules import Parameters, Scope, compute  # noqa: E402
from services.codes import make_credit_code  # noqa: E402
from services.identity import tokens  # noqa: E402
from services.identity.users import create_user  # noqa: E402
from tests.backends import create_pg_database, drop_pg_database  # noqa: E402

SECRET = "bench-secret-key-with-enough-entropy-0123456789"
YEARS = range(2020, 2025)
PLAN_YEAR = 2025
BENCHMARKS = {
    "POWER_COAL_GT300": Decimal("0.7910"),
    "POWER_GAS": Decimal("0.3288"),
    "HEAT_COAL": Decimal("0.1033"),
}
PREVIEW = """
mutation Preview($input: AllocationInput!) {
  previewAllocation(input: $input) {
    errors { code message field }
    total allocated scaleFactor baseYears
    lines { amount basis enterprise { id } }
    manual { reason enterprise { id } }
  }
}"""


class History:
    """The generated history (deterministic: seeded), as CSV lines and the figures it implies."""

    def __init__(self, codes: list[str], seed: int = 2025) -> None:
        self.codes = codes
        rng = random.Random(seed)
        self.lines: list[str] = []
        self.benchmark_sum = Decimal(0)  # of the last base year's output x benchmark
        self.floor_sum = 0  # of ceil(0.8 x the last base year's verified emissions)
        for n, code in enumerate(codes):
            if n % 100 == 99:
                continue  # no history: needs manual input
            coal = rng.random() < 0.7
            size = rng.uniform(0.2, 3.0)  # millions of MWh a year
            for year in YEARS:
                growth = 1 + 0.02 * (year - YEARS[0]) + rng.uniform(-0.05, 0.05)
                mwh = Decimal(round(size * growth * 1_000_000))
                product = "POWER_COAL_GT300" if coal else "POWER_GAS"
                outputs = {product: mwh}
                if coal and n % 3 == 0:
                    outputs["HEAT_COAL"] = Decimal(round(float(mwh) * rng.uniform(0.5, 2.0)))  # GJ
                allowance = sum(q * BENCHMARKS[p] for p, q in outputs.items())
                verified = round(float(allowance) * rng.uniform(0.9, 1.2))
                self.lines.append(f"{code},{year},EMISSIONS,,{verified},t")
                self.lines.append(f"{code},{year},ENERGY,ELECTRICITY,{round(float(mwh) * 60)},kWh")
                gas = rng.uniform(1e5, 5e6) if coal else float(mwh) * rng.uniform(180, 220)
                self.lines.append(f"{code},{year},ENERGY,NATURAL_GAS,{round(gas)},m3")
                self.lines.append(f"{code},{year},ENERGY,DIESEL,{rng.uniform(10, 500):.3f},t")
                self.lines.extend(f"{code},{year},OUTPUT,{p},{q},MWh" if p != "HEAT_COAL" else f"{code},{year},OUTPUT,{p},{q},GJ" for p, q in outputs.items())  # fmt: skip
                if year == YEARS[-1]:
                    self.benchmark_sum += allowance
                    self.floor_sum += -(-verified * 8 // 10)

    async def chunks(self, size: int = 64 * 1024) -> AsyncIterator[bytes]:
        data = ("credit_code,year,kind,item,quantity,unit\n" + "\n".join(self.lines) + "\n").encode()
        for start in range(0, len(data), size):
            yield data[start : start + size]


async def build(count: int) -> tuple[Actor, list[int], History]:
    started = time.perf_counter()
    user = await create_user(
        None, username="bench_regulator", password="bench-password-1", role=Role.REGULATOR, region_prefix="44"
    )
    regulator = Actor.of(user)
    enterprises = []
    for n in range(count):
        region = f"44{n % 21 + 1:02d}{n % 17 + 1:02d}"
        enterprises.append(
            Enterprise(
                name=f"电厂 {n:05d}",
                credit_code=make_credit_code(region, f"B{n:07d}"),
                region_code=region,
                industry_code="4411",
                sector=Sector.POWER,
            )
        )
    await Enterprise.bulk_create(enterprises, batch_size=1000)
    rows = await Enterprise.all().order_by("id").values_list("id", "credit_code")
    ids, codes = [i for i, _ in rows], [c for _, c in rows]
    print(f"{count:,} enterprises (bulk_create): {time.perf_counter() - started:.1f} s", flush=True)
    history = History(codes)
    started = time.perf_counter()
    result = await HistoryImporter(regulator).run(csv_rows(history.chunks()))
    seconds = time.perf_counter() - started
    if result.error_count:
        raise SystemExit(f"history import failed: {result.errors[:3]}")
    print(
        f"{result.written:,} history rows (one CSV through services.history, all or nothing): "
        f"{seconds:.1f} s, {result.written / seconds:,.0f} rows/s",
        flush=True,
    )
    return regulator, ids, history


def cases(ids: list[int], history: History) -> dict[AllocationRule, dict[str, Any]]:
    """Each rule's GraphQL input and the matching compute() arguments."""
    benchmark_total = int(history.benchmark_sum * Decimal("0.9"))
    assert benchmark_total > history.floor_sum, "the benchmark case must be feasible"
    rng = random.Random(7)
    direct = [(i, rng.randrange(10_000, 5_000_000)) for i in ids]
    rule = AllocationRule
    return {
        rule.HISTORICAL_EMISSIONS: {"input": {"total": "5000000000"}, "total": 5_000_000_000, "p": {}},
        rule.BENCHMARK: {
            "input": {"total": str(benchmark_total), "floorRatio": "0.8"},
            "total": benchmark_total,
            "p": {"floor_ratio": "0.8"},
        },
        rule.ENERGY_PROPORTIONAL: {"input": {"total": "5000000000"}, "total": 5_000_000_000, "p": {}},
        rule.EQUAL: {"input": {"total": "5000000000"}, "total": 5_000_000_000, "p": {}},
        rule.DIRECT: {
            # As a table: the GraphQL list takes at most 5,000 lines (schema/allocation/mutations.py).
            "input": {"directCsv": None},
            "csv": "credit_code,amount\n"
            + "".join(f"{code},{a}\n" for code, (_, a) in zip(history.codes, direct, strict=True)),
            "total": None,
            "p": {"direct": tuple(direct)},
        },
    }


async def preview(client: httpx.AsyncClient, token: str, rule: AllocationRule, case: dict[str, Any]) -> dict:
    variables = {"input": {"year": PLAN_YEAR, "rule": rule.value, **case["input"]}}
    headers = {"authorization": f"Bearer {token}"}
    if "csv" in case:
        response = await client.post(
            "/graphql",
            data={
                "operations": json.dumps({"query": PREVIEW, "variables": variables}),
                "map": json.dumps({"0": ["variables.input.directCsv"]}),
            },
            files={"0": ("direct.csv", case["csv"].encode(), "text/csv")},
            headers=headers,
        )
    else:
        response = await client.post(
            "/graphql", json={"query": PREVIEW, "variables": variables}, headers=headers
        )
    body = response.json()
    if response.status_code != 200 or body.get("errors") or body["data"]["previewAllocation"]["errors"]:
        raise SystemExit(f"{rule.value}: {response.status_code} {str(body)[:500]}")
    return body["data"]["previewAllocation"]


async def timed(call: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = await call()
    return time.perf_counter() - started, result


async def run(args: argparse.Namespace) -> None:
    var_dir = Path(tempfile.mkdtemp(prefix="ccms-bench-allocation-"))
    url: str | None = None
    try:
        url = await create_pg_database("ccms_bench_allocation")
        print(f"database {url.rsplit('/', 1)[1]} (fresh; dropped at the end)", flush=True)
        await database.migrate(url)
        await database.init_db(url)
        regulator, ids, history = await build(args.enterprises)
        settings = Settings(
            var_dir=var_dir,
            database_url=url,
            secret_key=SECRET,
            upload_dir=var_dir / "uploads",
            demo=False,
            admin_password="bench-admin-password",
        )
        app = create_app(settings, manage_db=False)
        token = tokens.issue(regulator.user_id, SECRET, 3600)[0]
        transport = httpx.ASGITransport(app=app)
        print(
            f"\npreviewAllocation for {args.enterprises:,} enterprises, plan year {PLAN_YEAR}, base years "
            f"{YEARS[0]}-{YEARS[-1]}; GraphQL through httpx.ASGITransport (no socket); "
            f"{args.runs} runs after one warm-up\n"
        )
        print(
            f"{'rule':<21} {'GraphQL median':>14} {'max':>7}   {'compute() median':>16} {'max':>7}   result"
        )
        slow = []
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=120) as client:
            for rule, case in cases(ids, history).items():
                arguments = {
                    "year": PLAN_YEAR,
                    "rule": rule,
                    "scope": Scope(),
                    "total": case["total"],
                    "parameters": Parameters(**case["p"]),
                }
                await preview(client, token, rule, case)  # warm-up
                graphql, service = [], []
                result: dict = {}
                for _ in range(args.runs):
                    seconds, result = await timed(lambda: preview(client, token, rule, case))  # noqa: B023
                    graphql.append(seconds)
                    seconds, _ = await timed(lambda: compute(regulator, **arguments))  # noqa: B023
                    service.append(seconds)
                lines = result["lines"]
                allocated = sum(int(line["amount"]) for line in lines)
                assert allocated == int(result["allocated"])
                if result["total"] is not None and rule != AllocationRule.BENCHMARK:
                    assert allocated == int(result["total"]), (rule, allocated, result["total"])
                note = f"{len(lines):,} lines, {len(result['manual'])} manual, allocated {allocated:,}"
                if result["scaleFactor"] not in (None, "1"):
                    note += f", scale {Decimal(result['scaleFactor']):.6f}"
                print(
                    f"{rule.value:<21} {statistics.median(graphql):>12.3f} s {max(graphql):>6.3f} s"
                    f"   {statistics.median(service):>14.3f} s {max(service):>6.3f} s   {note}",
                    flush=True,
                )
                if max(graphql) >= 2.0:
                    slow.append(rule.value)
            print(
                f"\ntarget: under 2 s each; {'missed by ' + ', '.join(slow) if slow else 'all rules within it'}"
            )
            if args.profile:
                rule = AllocationRule(args.profile)
                case = cases(ids, history)[rule]
                profiler = cProfile.Profile()
                profiler.enable()
                await preview(client, token, rule, case)
                profiler.disable()
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
                print(f"\ncProfile of one {rule.value} preview (cumulative):\n{out.getvalue()}")
    finally:
        await Tortoise.close_connections()
        if url is not None:
            await drop_pg_database(url)
        shutil.rmtree(var_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--enterprises", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", choices=[r.value for r in AllocationRule], default=None)
    args = parser.parse_args()
    print("$ " + shlex.join([".venv/bin/python", "bench/allocation.py", *sys.argv[1:]]))
    print(header(), flush=True)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
