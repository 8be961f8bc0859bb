"""Browser-test fixtures: Chromium, a `ccms serve` per backend with a small cast and data, and
browser contexts that are photographed when their test fails.

Chromium is Debian's (/usr/bin/chromium; `.ci/run` installs it). Under CI=true a missing
Chromium or an unbuilt console fails the tests; elsewhere they are skipped with the reason.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, sync_playwright
from redis import Redis

from api.console import STATIC
from services.codes import make_credit_code
from tests.backends import CI, REDIS_URL, create_pg_database, drop_pg_database, require_redis
from tests.browser.support import ARGS, CHROMIUM, YEAR, save_screenshots
from tests.e2e.deployment import Deployment, claim_redis_db, redis_db
from tests.e2e.server import REPO, GraphQLHTTP, Server, serve

T = TypeVar("T")
ARTIFACTS = Path(os.environ.get("CCMS_BROWSER_ARTIFACTS") or REPO / "var" / "browser-failures")
ADMIN = ("chief", "chief-password")
REGULATOR = ("b_regulator", "password-123")
MEMBER = ("b_power", "password-123")
# (name, region, organisation code body, industry, sector): three Guangdong enterprises.
ENTERPRISES = (
    ("华南示范电厂", "440113", "MA7B0001", "4411", "POWER"),
    ("深圳示范水泥厂", "440307", "MA7B0002", "3011", "CEMENT"),
    ("佛山示范钢铁厂", "440606", "MA7B0003", "3120", "STEEL"),
)
# Verified emissions of each enterprise in the five years before YEAR (the trend's data): a base
# that grows by STEP a year, plus a year's wobble so the fit has an interval.
HISTORY = {0: 800_000, 1: 450_000, 2: 1_200_000}
STEP = 20_000
WOBBLE = {1: 9_000, 2: -14_000, 3: 11_000, 4: -6_000, 5: 0}  # by years before YEAR


def verified(enterprise: int, back: int) -> int:
    return HISTORY[enterprise] + STEP * (5 - back) + WOBBLE[back] + 1_000 * enterprise


def _unavailable(reason: str) -> None:
    if CI:
        pytest.fail(f"CI=true: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    if not (STATIC / "index.html").exists() or not (STATIC / "graphiql.html").exists():
        _unavailable(f"the console is not built in {STATIC} (make web)")
    with sync_playwright() as playwright:
        playwright.selectors.set_test_id_attribute("data-test")  # the console's hooks for tests
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _run(coroutine: Coroutine[object, object, T]) -> T:
    """Run a coroutine to the end in a thread of its own: Playwright's sync API and the test
    session's event loop both live in this one."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


@pytest.fixture(scope="package")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`ccms serve` on SQLite alone (the embedded default, jobs in process); or the production
    shape on a fresh PostgreSQL database: `ccms migrate`, `ccms serve --no-migrate` and
    `ccms worker` sharing a Redis database of their own (events, and jobs such as the
    aggregates' refresh that statistics read)."""
    env = {
        "CCMS_ADMIN_USERNAME": ADMIN[0],
        "CCMS_ADMIN_PASSWORD": ADMIN[1],
        "CCMS_DEMO": "0",
        # An open console learns of a deactivation or a role change within this (close 4401).
        "CCMS_SESSION_CHECK_SECONDS": "2",
    }
    var = tmp_path_factory.mktemp("browser") / "var"
    if backend == "sqlite":
        with serve(var, env) as running:
            yield running
        return
    require_redis()
    redis_url = claim_redis_db(REDIS_URL, avoid=(0, redis_db(REDIS_URL)))
    database = _run(create_pg_database("browser"))
    try:
        with Deployment(var, env | {"DATABASE_URL": database, "REDIS_URL": redis_url}) as deployment:
            deployment.migrate()
            api, worker = deployment.start_api("api"), deployment.start_worker()
            deployment.wait_api(api)
            deployment.wait_worker(worker)
            yield api
    finally:
        _run(drop_pg_database(database))
        with Redis.from_url(redis_url) as redis:
            redis.flushdb()


@dataclass
class Cast:
    server: Server
    api: GraphQLHTTP
    enterprise_ids: list[str]
    regulator_token: str

    @property
    def url(self) -> str:
        return self.server.url


CREATE_ENTERPRISE = "mutation($i: CreateEnterpriseInput!) { createEnterprise(input: $i) { enterprise { id } errors { code } } }"
CREATE_USER = "mutation($i: CreateUserInput!) { createUser(input: $i) { user { id } errors { code } } }"
SET_ALLOWANCE = """mutation($e: ID!, $y: Int!, $a: Tonnes!) {
  setInitialAllowance(enterpriseId: $e, year: $y, amount: $a) { errors { code } } }"""
IMPORT_HISTORY = """mutation($rows: [HistoricalRowInput!]!) {
  importHistoricalData(rows: $rows) { written errors { code } rowErrors { line code } } }"""


def _ok(payload: dict) -> dict:
    (result,) = payload.values()
    assert result["errors"] == [], result
    return result


@pytest.fixture(scope="package")
def cast(server: Server) -> Iterator[Cast]:
    """Three enterprises, a Guangdong regulator and a member of the first; a 1,000 t allowance
    for YEAR; five years of verified emissions; two years of monthly energy use."""
    with httpx.Client(base_url=server.url, timeout=30) as http:
        api = GraphQLHTTP(http)
        admin = api.login(*ADMIN)
        ids = []
        for name, region, body, industry, sector in ENTERPRISES:
            values = {
                "name": name,
                "creditCode": make_credit_code(region, body),
                "regionCode": region,
                "industryCode": industry,
                "sector": sector,
            }
            ids.append(_ok(api.query(CREATE_ENTERPRISE, {"i": values}, token=admin))["enterprise"]["id"])
        _ok(
            api.query(
                CREATE_USER,
                {
                    "i": {
                        "username": REGULATOR[0],
                        "password": REGULATOR[1],
                        "role": "REGULATOR",
                        "regionPrefix": "44",
                    }
                },
                token=admin,
            )
        )
        _ok(
            api.query(
                CREATE_USER,
                {
                    "i": {
                        "username": MEMBER[0],
                        "password": MEMBER[1],
                        "role": "ENTERPRISE",
                        "enterpriseId": ids[0],
                    }
                },
                token=admin,
            )
        )
        regulator = api.login(*REGULATOR)
        _ok(api.query(SET_ALLOWANCE, {"e": ids[0], "y": YEAR, "a": 1000}, token=regulator))
        rows = [
            {
                "creditCode": make_credit_code(ENTERPRISES[i][1], ENTERPRISES[i][2]),
                "year": YEAR - back,
                "kind": "EMISSIONS",
                "quantity": str(verified(i, back)),
                "unit": "t",
            }
            for i in HISTORY
            for back in range(1, 6)
        ]
        assert _ok(api.query(IMPORT_HISTORY, {"rows": rows}, token=regulator))["written"] == 15
        lines = ["credit_code,period,energy_type,quantity,unit"]
        for i, (_, region, body, *_) in enumerate(ENTERPRISES):
            for year in (YEAR - 1, YEAR):
                for month in (1, 4, 7, 10):
                    code = make_credit_code(region, body)
                    lines.append(f"{code},{year}-{month:02d},ELECTRICITY,{1000 * (i + 1) + month},MWh")
                    lines.append(f"{code},{year}-{month:02d},BITUMINOUS_COAL,{500 * (i + 1) + year % 10},t")
        response = http.post(
            "/import/energy.csv",
            content="\n".join(lines).encode(),
            headers={"authorization": f"Bearer {regulator}", "content-type": "text/csv"},
        )
        assert response.status_code == 200, response.text
        yield Cast(server, api, ids, regulator)


FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    item.stash.setdefault(FAILED, False)
    if report.failed:
        item.stash[FAILED] = True


@pytest.fixture
def new_context(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Callable[..., BrowserContext]]:
    """Browser contexts for one test (each a separate user); if the test fails, every page
    they still have open is saved as a screenshot under ARTIFACTS."""
    contexts: list[BrowserContext] = []

    def make(**options: object) -> BrowserContext:
        context = browser.new_context(
            viewport={"width": 1440, "height": 900},
            accept_downloads=True,
            **options,  # type: ignore[arg-type]
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    yield make
    if request.node.stash.get(FAILED, False):
        saved = save_screenshots(contexts, ARTIFACTS, request.node.nodeid)
        print(f"screenshots of the failure: {', '.join(map(str, saved))}")
    for context in contexts:
        context.close()
