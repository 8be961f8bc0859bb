"""The bulk enterprise register over HTTP on PostgreSQL: 15,000 enterprises in one file.

    .venv/bin/python bench/enterprise_import.py [--count 15000] [--sample 200] [--accounts 1000]

Creates a fresh PostgreSQL database (CCMS_BENCH_DATABASE_URL's server, default
postgres://postgres@127.0.0.1:5432/postgres; dropped at the end), starts `ccms serve` on it
(which migrates), signs in as a Guangdong regulator and times:

- `POST /import/enterprises.csv` of `--count` new enterprises (a UTF-8 CSV, sent whole);
- the same file again: every row known and unchanged;
- `createEnterprise` one by one (as an administrator) on a sample of `--sample`, the path the
  issue measured at 800 s for 15,489; the ratio is the sample's per-call time × count over
  the bulk time;
- a file of `--accounts` enterprises that each get an enterprise user with a one-time password.

Checks that the server registered what it was sent (counts through the API) and prints the
figures; it asserts nothing about speed (the goal is under 10 s for 15,000).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from bench.machine import header  # noqa: E402
from services.codes import make_credit_code  # noqa: E402
from tests.e2e.server import free_port  # noqa: E402

ADMIN = ("chief", "chief-password-bench")
REGULATOR = ("gd.bench", "gd-bench-password")
LOGIN = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token errors { code } } }"
CREATE_USER = """mutation($input: CreateUserInput!) { createUser(input: $input) { errors { code } } }"""
CREATE = (
    """mutation($input: CreateEnterpriseInput!) { createEnterprise(input: $input) { errors { code } } }"""
)
COUNT = "{ enterprises(first: 1) { totalCount } }"
REGIONS = ["440103", "440113", "440300", "440604", "441900", "445100"]
SECTORS = ["POWER", "STEEL", "CEMENT", "ALUMINIUM", "PETROCHEMICAL", "CHEMICAL", "PAPER", "AVIATION"]


def csv_file(first: int, count: int, *, accounts: bool = False) -> bytes:
    lines = ["credit_code,name,region_code,industry_code,sector" + (",username" if accounts else "")]
    for n in range(first, first + count):
        region = REGIONS[n % len(REGIONS)]
        row = f"{make_credit_code(region, f'BN{n:06d}')},广东省第{n}号控排企业有限公司,{region},4411,{SECTORS[n % 8]}"
        lines.append(row + (f",bench{n}" if accounts else ""))
    return ("\n".join(lines) + "\n").encode()


async def graphql(
    client: httpx.AsyncClient, query: str, variables: dict | None = None, token: str = ""
) -> dict:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    response.raise_for_status()
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def login(client: httpx.AsyncClient, username: str, password: str) -> str:
    data = await graphql(client, LOGIN, {"u": username, "p": password})
    assert not data["login"]["errors"], data
    return str(data["login"]["token"])


async def upload(client: httpx.AsyncClient, token: str, body: bytes) -> tuple[float, dict]:
    started = time.perf_counter()
    response = await client.post(
        "/import/enterprises.csv",
        content=body,
        headers={"authorization": f"Bearer {token}", "content-type": "text/csv"},
    )
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text[:500]
    return elapsed, response.json()


async def measure(url: str, args: argparse.Namespace) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=600) as client:
        admin = await login(client, *ADMIN)
        made = await graphql(
            client,
            CREATE_USER,
            {
                "input": {
                    "username": REGULATOR[0],
                    "password": REGULATOR[1],
                    "role": "REGULATOR",
                    "regionPrefix": "44",
                }
            },
            admin,
        )
        assert not made["createUser"]["errors"], made
        regulator = await login(client, *REGULATOR)

        body = csv_file(0, args.count)
        bulk, report = await upload(client, regulator, body)
        assert (report["created"], report["errorCount"]) == (args.count, 0), report
        again, report = await upload(client, regulator, body)
        assert (report["created"], report["updated"], report["written"]) == (0, 0, args.count), report

        started = time.perf_counter()
        for n in range(args.count, args.count + args.sample):
            region = REGIONS[n % len(REGIONS)]
            values = {
                "name": f"广东省第{n}号控排企业有限公司",
                "creditCode": make_credit_code(region, f"BN{n:06d}"),
                "regionCode": region,
                "industryCode": "4411",
                "sector": SECTORS[n % 8],
            }
            data = await graphql(client, CREATE, {"input": values}, admin)
            assert not data["createEnterprise"]["errors"], data
        one_by_one = (time.perf_counter() - started) / args.sample

        accounts_body = csv_file(args.count + args.sample, args.accounts, accounts=True)
        with_accounts, report = await upload(client, regulator, accounts_body)
        assert len(report["accounts"]) == args.accounts, report["errorCount"]

        total = (await graphql(client, COUNT, token=admin))["enterprises"]["totalCount"]
        assert total == args.count + args.sample + args.accounts, total

    print(header())
    print(f"PostgreSQL, `ccms serve` on {url}, one uvicorn worker; file of {len(body) / 1e6:.1f} MB")
    print(
        f"import {args.count:,} new enterprises (one POST)   {bulk:7.2f} s   {args.count / bulk:9,.0f} rows/s"
    )
    print(f"the same file again (all unchanged)    {again:7.2f} s   {args.count / again:9,.0f} rows/s")
    print(f"createEnterprise one by one (sample {args.sample})  {one_by_one * 1000:7.1f} ms a call")
    print(
        f"  => {args.count:,} one by one would take {one_by_one * args.count:7.1f} s: "
        f"{one_by_one * args.count / bulk:.0f} x the bulk import"
    )
    print(f"import {args.accounts:,} enterprises each with an account  {with_accounts:7.2f} s")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=15_000)
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--accounts", type=int, default=1000)
    args = parser.parse_args()
    server = os.environ.get("CCMS_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    name = f"ccms_bench_{secrets.token_hex(4)}"
    maintenance = await asyncpg.connect(server.replace("postgres://", "postgresql://", 1))
    await maintenance.execute(f"CREATE DATABASE {name}")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CCMS_", "DATABASE_URL", "REDIS_URL"))}
    env |= {
        "DATABASE_URL": server.rsplit("/", 1)[0] + f"/{name}",
        "CCMS_SECRET_KEY": secrets.token_urlsafe(48),
        "CCMS_PORT": str(port),
        "CCMS_ADMIN_USERNAME": ADMIN[0],
        "CCMS_ADMIN_PASSWORD": ADMIN[1],
        "CCMS_DEMO": "0",
    }
    with TemporaryDirectory(prefix="ccms-bench-") as var:
        env["CCMS_VAR_DIR"] = var
        log = (Path(var) / "serve.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while True:
                if process.poll() is not None:
                    raise RuntimeError((Path(var) / "serve.log").read_text()[-2000:])
                try:
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError("ccms serve is not ready")
                await asyncio.sleep(0.2)
            await measure(url, args)
        finally:
            process.terminate()
            process.wait(20)
            log.close()
            await maintenance.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            await maintenance.close()


if __name__ == "__main__":
    asyncio.run(main())
