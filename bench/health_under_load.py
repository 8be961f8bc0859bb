"""`/health` on a process while it is sent each big input of the hardening issue.

    .venv/bin/python bench/health_under_load.py [--database-url postgres://...] [--redis-url redis://...]

Starts one `ccms serve` (the embedded SQLite default unless a database URL is given) in a fresh
var directory, signs in, then sends each input below over HTTP, one at a time. While an input is
in flight a second connection probes `GET /health` every 20 ms; the script prints how the input
was answered, how long it took, and the worst probe latency (the goal: under 200 ms, i.e. the
event loop was never held longer than that). A third connection probes an anonymous
`{ __typename }`, which reads no table: on SQLite, /health also waits for the one connection an
import's transaction holds (see docs/architecture.md), so this column isolates the event loop.
It asserts nothing about speed.

Inputs (issue 11, item 2, and what now gets through the limits):
- importEnergyRecords with 100,000 rows as JSON variables (10 MB: over the 2 MB body limit);
- importEnergyRecords with 10,000 rows (under 2 MB: over the list's @maxItems of 1,000);
- importEnergyRecords with 1,000 rows (the largest list it takes);
- previewAllocation with 100,001 direct lines (over the body limit), 50,000 (under it, over the
  list's @maxItems of 5,000) and 5,000 (converted and checked line by line);
- previewAllocation with a DIRECT table of 100,000 lines uploaded as CSV (multipart);
- POST /import/energy.csv with a million duplicate rows (60 MB, streamed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from bench.machine import header  # noqa: E402
from services.codes import make_credit_code  # noqa: E402
from tests.e2e.server import serve  # noqa: E402

ADMIN = ("chief", "chief-password")
PROBE_EVERY = 0.02
GOAL_MS = 200
LOGIN = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token errors { code } } }"
IMPORT = (
    "mutation($rows: [EnergyRecordInput!]!) { importEnergyRecords(rows: $rows) { written errors { code } } }"
)
PREVIEW = "mutation($input: AllocationInput!) { previewAllocation(input: $input) { errors { code field } } }"

Send = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


def rows(credit_code: str, count: int) -> list[dict[str, str]]:
    return [
        {
            "creditCode": credit_code,
            "period": f"{1990 + n // 12 % 110}-{n % 12 + 1:02d}",
            "energyType": "ELECTRICITY",
            "quantity": str(n),
            "unit": "MWh",
        }
        for n in range(count)
    ]


def direct(count: int) -> dict[str, object]:
    lines = [{"enterpriseId": str(n + 1), "amount": 1000} for n in range(count)]
    return {"year": 2030, "rule": "DIRECT", "direct": lines}


async def duplicate_rows(credit_code: str, count: int) -> AsyncIterator[bytes]:
    yield b"credit_code,period,energy_type,quantity,unit\n"
    line = f"{credit_code},2024-03,ELECTRICITY,10,MWh\n".encode()
    chunk = line * 10_000
    for _ in range(count // 10_000):
        yield chunk


def inputs(credit_code: str) -> list[tuple[str, Send]]:
    table = "credit_code,amount\n" + "".join(
        f"{make_credit_code('440113', f'MC{n:06d}')},1000\n" for n in range(100_000)
    )
    return [
        (
            "importEnergyRecords, 100,000 rows",
            graphql(IMPORT, {"rows": rows(credit_code, 100_000)}),
        ),
        (
            "importEnergyRecords, 10,000 rows",
            graphql(IMPORT, {"rows": rows(credit_code, 10_000)}),
        ),
        ("importEnergyRecords, 1,000 rows", graphql(IMPORT, {"rows": rows(credit_code, 1_000)})),
        (
            "previewAllocation, 100,001 direct lines",
            graphql(PREVIEW, {"input": direct(100_001)}),
        ),
        ("previewAllocation, 50,000 direct lines", graphql(PREVIEW, {"input": direct(50_000)})),
        ("previewAllocation, 5,000 direct lines", graphql(PREVIEW, {"input": direct(5_000)})),
        (
            "previewAllocation, directCsv of 100,000 lines",
            lambda c: c.post(
                "/graphql",
                data={
                    "operations": json.dumps(
                        {
                            "query": PREVIEW,
                            "variables": {"input": {"year": 2030, "rule": "DIRECT", "directCsv": None}},
                        }
                    ),
                    "map": json.dumps({"0": ["variables.input.directCsv"]}),
                },
                files={"0": ("direct.csv", table.encode(), "text/csv")},
            ),
        ),
        (
            "/import/energy.csv, 1,000,000 duplicate rows",
            lambda c: c.post("/import/energy.csv", content=duplicate_rows(credit_code, 1_000_000)),
        ),
    ]


def graphql(query: str, variables: dict[str, object]) -> Send:
    """The request, encoded now: building a 10 MB body is the client's work, not the server's."""
    body = json.dumps({"query": query, "variables": variables}).encode()
    return lambda client: client.post("/graphql", content=body, headers={"content-type": "application/json"})


def outcome(response: httpx.Response) -> str:
    """The status and the first code the answer carries."""
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code} {response.text[:60]!r}"
    codes: list[str] = []
    if isinstance(body, dict):
        for error in body.get("errors") or ():
            codes.append(error.get("code") or (error.get("extensions") or {}).get("code", "?"))
        for payload in (body.get("data") or {}).values():
            codes += [e["code"] for e in (payload or {}).get("errors") or ()]
        if body.get("code"):
            codes.append(body["code"])
    return f"{response.status_code} {codes[0] if codes else 'ok'}"


def probe(
    url: str, stop: threading.Event, send: Callable[[httpx.Client], httpx.Response], out: list[float]
) -> None:
    """In a thread of its own, so that the sender's work on this side never delays a probe."""
    with httpx.Client(base_url=url, timeout=120) as client:
        while not stop.is_set():
            started = time.perf_counter()
            response = send(client)
            out.append(time.perf_counter() - started)
            if response.status_code != 200:
                print(f"probe answered {response.status_code}: {response.text[:200]}", flush=True)
            stop.wait(PROBE_EVERY)


def health(client: httpx.Client) -> httpx.Response:
    return client.get("/health")


def typename(client: httpx.Client) -> httpx.Response:
    # Anonymous and reading no table: only the event loop stands between it and its answer.
    return client.post("/graphql", json={"query": "{ __typename }"})


async def measure(url: str, token: str, name: str, send: Send) -> None:
    stop = threading.Event()
    latencies: list[float] = []
    loop: list[float] = []
    probes = [
        threading.Thread(target=probe, args=(url, stop, health, latencies)),
        threading.Thread(target=probe, args=(url, stop, typename, loop)),
    ]
    for thread in probes:
        thread.start()
    while not (latencies and loop):  # both probes answered once before the input goes out
        await asyncio.sleep(0.01)
    headers = {"authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, timeout=600, headers=headers) as client:
        started = time.perf_counter()
        response = await send(client)
        took = time.perf_counter() - started
    stop.set()
    for thread in probes:
        thread.join()
    worst, worst_loop = max(latencies) * 1000, max(loop) * 1000
    mark = "ok" if worst < GOAL_MS else "OVER"
    print(
        f"{name:<46} {outcome(response):<24} {took:6.2f} s  /health worst {worst:8.1f} ms {mark:<4} "
        f"({len(latencies)} probes)  {{ __typename }} worst {worst_loop:8.1f} ms",
        flush=True,
    )


async def setup(url: str) -> tuple[str, str]:
    """A national regulator's token and an enterprise's credit code."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:

        async def call(query: str, variables: dict[str, object], token: str | None = None) -> dict:
            headers = {"authorization": f"Bearer {token}"} if token else {}
            response = await client.post(
                "/graphql", json={"query": query, "variables": variables}, headers=headers
            )
            return response.json()["data"]

        admin = (await call(LOGIN, {"u": ADMIN[0], "p": ADMIN[1]}))["login"]["token"]
        code = make_credit_code("440113", "MA000001")
        await call(
            "mutation($i: CreateEnterpriseInput!) { createEnterprise(input: $i) { errors { code } } }",
            {
                "i": {
                    "name": "负载测试",
                    "creditCode": code,
                    "regionCode": "440113",
                    "industryCode": "4411",
                    "sector": "POWER",
                }
            },
            admin,
        )
        await call(
            "mutation($i: CreateUserInput!) { createUser(input: $i) { errors { code } } }",
            {"i": {"username": "load.regulator", "password": "load-regulator-1", "role": "REGULATOR"}},
            admin,
        )
        token = (await call(LOGIN, {"u": "load.regulator", "p": "load-regulator-1"}))["login"]["token"]
        return token, code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--redis-url", default="")
    args = parser.parse_args()
    print(header())
    env = {"CCMS_ADMIN_USERNAME": ADMIN[0], "CCMS_ADMIN_PASSWORD": ADMIN[1], "CCMS_DEMO": "0"}
    if args.database_url:
        env |= {
            "DATABASE_URL": args.database_url,
            "CCMS_SECRET_KEY": "bench-health-under-load-secret-key-0123456789",
        }
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
    with (
        tempfile.TemporaryDirectory(prefix="ccms-load-") as var,
        serve(Path(var), env, timeout=120) as server,
    ):
        print(f"database: {args.database_url or 'SQLite (embedded)'}; goal: /health under {GOAL_MS} ms\n")

        async def run() -> None:
            token, code = await setup(server.url)
            for name, send in inputs(code):
                await measure(server.url, token, name, send)

        asyncio.run(run())


if __name__ == "__main__":
    main()
