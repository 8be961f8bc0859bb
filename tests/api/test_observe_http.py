"""Operating the API: the request id, the request log line, /metrics and the health probes.

Metric values are read from the exposition text with prometheus_client's own parser, and each
test compares a scrape after its requests with one before (the counters are process-wide).
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis

from api.app import create_app
from core import heartbeat, logs, runtime
from core.settings import Settings
from services.live import events
from tests.api.test_imports_http import post, text
from tests.backends import REDIS_URL, require_redis
from tests.conftest import World
from tests.schema.support import auth
from tests.services.conftest import fast_password_hashing  # noqa: F401

LOGIN = 'mutation SignIn { login(username: "nobody", password: "wrong-password") { token errors { code } } }'


async def scrape(http: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """The process's log, in JSON, into a buffer (as `ccms serve` writes it to stderr)."""
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    logs.configure(Settings(), stream)
    try:
        yield stream
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


def records(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]


async def test_a_client_request_id_is_returned_and_one_is_made_up_when_missing_or_unsafe(
    http: httpx.AsyncClient,
) -> None:
    given = await http.get("/health/live", headers={"X-Request-ID": "edge-7f3a.1"})
    assert given.headers["x-request-id"] == "edge-7f3a.1"
    made_up = [await http.get("/health/live") for _ in range(2)]
    ids = [r.headers["x-request-id"] for r in made_up]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids) and ids[0] != ids[1]
    # A line break (or megabytes) in an id would go into every log line: replaced.
    unsafe = await http.get("/health/live", headers={"X-Request-ID": "a b"})
    assert re.fullmatch(r"[0-9a-f]{32}", unsafe.headers["x-request-id"])


async def test_a_request_is_logged_once_as_json_with_its_id_user_operation_duration_and_error_code(
    http: httpx.AsyncClient, world: World, log_lines: io.StringIO
) -> None:
    regulator = await world.regulator()
    response = await http.post(
        "/graphql",
        json={"query": "query Mine { notices(first: 500) { totalCount } }"},
        headers={**auth(regulator), "X-Request-ID": "trace-me-1"},
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_PAGINATION"
    lines = [r for r in records(log_lines) if r.get("request_id") == "trace-me-1"]
    assert [r["message"] for r in lines] == ["request"]
    line = lines[0]
    assert line["user_id"] == regulator.user_id
    assert line["operation"] == "Mine"
    assert line["error_code"] == "INVALID_PAGINATION"
    assert line["status"] == 200 and line["route"] == "/graphql" and line["method"] == "POST"
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["level"] == "INFO" and line["time"].endswith("+00:00")


async def test_the_text_format_carries_the_same_fields(http: httpx.AsyncClient) -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = list(root.handlers)
    logs.configure(replace(Settings(), log_format="text"), stream)
    try:
        await http.get("/export/statistics.csv", headers={"X-Request-ID": "text-1"})
    finally:
        root.handlers[:] = saved
    [line] = [line for line in stream.getvalue().splitlines() if "request_id=text-1" in line]
    assert " INFO ccms.request: request " in line
    assert "error_code=UNAUTHENTICATED" in line and "status=401" in line


async def test_requests_latency_and_errors_are_counted_by_operation_name_and_code(
    http: httpx.AsyncClient, db: str
) -> None:
    before = await scrape(http)
    for _ in range(2):
        assert (await http.post("/graphql", json={"query": LOGIN})).status_code == 200
    await http.post("/graphql", json={"query": "{ me { username } }"})
    await http.post("/graphql", json={"query": "{ nosuchfield }"})
    after = await scrape(http)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    route = {"route": "/graphql"}
    assert grew("ccms_requests_total", **route, operation="SignIn", status="200") == 2
    assert grew("ccms_request_duration_seconds_count", **route, operation="SignIn") == 2
    assert grew("ccms_requests_total", **route, operation="anonymous", status="200") == 1
    assert grew("ccms_errors_total", code="INVALID_CREDENTIALS") == 2  # payload errors
    assert grew("ccms_errors_total", code="UNAUTHENTICATED") == 1  # top-level, coded
    assert grew("ccms_errors_total", code="GRAPHQL_VALIDATION_FAILED") == 1


async def test_routes_are_labelled_by_their_template_not_the_raw_path(
    http: httpx.AsyncClient, db: str
) -> None:
    before = await scrape(http)
    for document in (11, 12, 13):
        assert (await http.get(f"/documents/{document}")).status_code == 401
    after = await scrape(http)
    labels = {"route": "/documents/{document_id}", "operation": "", "status": "401"}
    assert value(after, "ccms_requests_total", **labels) - value(before, "ccms_requests_total", **labels) == 3
    assert not any("/documents/11" in str(key) for key in after)


async def test_rows_written_by_an_import_are_counted(http: httpx.AsyncClient, world: World) -> None:
    regulator = await world.regulator()
    enterprise = await world.enterprise()
    code = enterprise.credit_code
    before = await scrape(http)
    response = await post(
        http,
        text(
            f"{code},2021,EMISSIONS,,1000,t,",
            f"{code},2022,EMISSIONS,,1100,t,",
            f"{code},2022,ENERGY,DIESEL,5,t,",
        ),
        regulator,
    )
    assert response.json()["written"] == 3
    refused = await post(http, text(f"{code},2023,EMISSIONS,,-1,t,"), regulator)
    assert refused.status_code == 422
    after = await scrape(http)
    labels = {"source": "history_csv"}
    assert (
        value(after, "ccms_rows_ingested_total", **labels)
        - value(before, "ccms_rows_ingested_total", **labels)
        == 3
    )


async def test_alarms_published_by_a_process_are_counted_by_kind(settings: Settings, db: str) -> None:
    app = create_app(settings, manage_db=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ccms.test") as http:
        before = await scrape(http)
        await runtime.start(settings, manage_db=False)
        try:
            await events.publish(
                events.Event(events.EventType.ALARM_RAISED, data={"kind": "ACK_OVERDUE"}),
                events.Event(events.EventType.NOTICE_ISSUED),
                events.Event(events.EventType.ALARM_RAISED, data={"kind": "NOTICE_OVERDUE"}),
                events.Event(events.EventType.ALARM_RAISED, data={"kind": "ACK_OVERDUE"}),
            )
            after = await scrape(http)
        finally:
            await runtime.stop(manage_db=False)
    for kind, count in (("ACK_OVERDUE", 2), ("NOTICE_OVERDUE", 1)):
        grew = value(after, "ccms_alarms_raised_total", kind=kind) - value(
            before, "ccms_alarms_raised_total", kind=kind
        )
        assert grew == count


async def test_the_embedded_shape_is_ready_when_its_database_answers(http: httpx.AsyncClient) -> None:
    assert (await http.get("/health/live")).json() == {"status": "ok"}
    ready = await http.get("/health/ready")
    # No REDIS_URL: no worker or scheduler to wait for (the server runs jobs and sweep itself).
    assert ready.status_code == 200 and ready.json() == {"status": "ok", "database": "up"}


async def test_readiness_with_redis_needs_a_worker_and_a_scheduler_heartbeat(
    settings: Settings, db: str
) -> None:
    require_redis()
    redis = Redis.from_url(REDIS_URL)
    await redis.delete(*[key async for key in redis.scan_iter(match=f"{heartbeat.PREFIX}:*")] or ["none"])
    app = create_app(replace(settings, redis_url=REDIS_URL), manage_db=False)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://ccms.test"
        ) as http:
            alone = await http.get("/health/ready")
            assert alone.status_code == 503
            assert alone.json() == {
                "status": "unavailable",
                "database": "up",
                "redis": "up",
                "worker": "missing",
                "scheduler": "missing",
            }
            await heartbeat.beat(redis, "worker", ttl_seconds=30)
            assert (await http.get("/health/ready")).json()["scheduler"] == "missing"
            await heartbeat.beat(redis, "scheduler", ttl_seconds=30)
            whole = await http.get("/health/ready")
            assert whole.status_code == 200 and whole.json()["status"] == "ok"
            # A heartbeat expires on its own: a process that died stops counting.
            await redis.delete(heartbeat.key("worker"))
            assert (await http.get("/health/ready")).json()["worker"] == "missing"
            # The old probe still answers for the database alone.
            assert (await http.get("/health")).json() == {"status": "ok", "database": "up"}
    finally:
        await redis.delete(*[key async for key in redis.scan_iter(match=f"{heartbeat.PREFIX}:*")] or ["none"])
        await redis.aclose()
