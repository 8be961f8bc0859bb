"""Operating real processes: keep-alive, JSON logs by request id, and, with Redis, the worker's
and the scheduler's metrics ports, heartbeats and the API's readiness that waits for them."""

from __future__ import annotations

import http.client
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker
from prometheus_client.parser import text_string_to_metric_families

from core.broker import QUEUE
from tests.backends import REDIS_URL, require_redis
from tests.e2e.deployment import claim_redis_db, deployment, redis_db, wait_for
from tests.e2e.server import Server, _ccms, free_port, serve


def get(connection: http.client.HTTPConnection, path: str, request_id: str) -> int:
    connection.request("GET", path, headers={"X-Request-ID": request_id})
    response = connection.getresponse()
    response.read()
    return response.status


def test_a_keep_alive_connection_idle_longer_than_5_seconds_is_still_open(tmp_path: Path) -> None:
    """uvicorn's own default (5 s) closed it: a pooled client reusing it got a read error."""
    with serve(tmp_path / "var") as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        try:
            assert get(connection, "/health/live", "first") == 200
            local = connection.sock.getsockname()
            time.sleep(6)
            assert get(connection, "/health/live", "after-idle") == 200  # no RemoteDisconnected
            assert connection.sock.getsockname() == local  # the same connection, not a new one
        finally:
            connection.close()


def test_the_keep_alive_timeout_is_the_setting(tmp_path: Path) -> None:
    with serve(tmp_path / "var", {"CCMS_KEEPALIVE_SECONDS": "1"}) as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        try:
            assert get(connection, "/health/live", "first") == 200
            time.sleep(3)
            # The server closed it after 1 s idle: the next request on it finds it gone.
            with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)):
                get(connection, "/health/live", "too-late")
        finally:
            connection.close()


def test_one_request_can_be_followed_through_the_json_log_by_its_id(tmp_path: Path) -> None:
    with serve(tmp_path / "var") as server:
        response = httpx.post(
            f"{server.url}/graphql",
            json={"query": "query Probe { me { username } }"},
            headers={"X-Request-ID": "follow-me-42"},
        )
        assert response.headers["x-request-id"] == "follow-me-42"
        wait_for(lambda: "follow-me-42" in server.output(), 10, "the request's log line")
        output = server.output()
    # Once it serves, every line is one JSON object (before, it prints the admin's first password
    # and its address for the person who started it).
    served = output.split("CCMS on http://", 1)[1].splitlines()[1:]
    logged = [json.loads(line) for line in served if line]
    [line] = [entry for entry in logged if entry.get("request_id") == "follow-me-42"]
    assert line["operation"] == "Probe" and line["error_code"] == "UNAUTHENTICATED"
    assert line["route"] == "/graphql" and line["status"] == 200 and line["duration_ms"] >= 0


def test_ccms_probe_answers_for_the_process_on_its_port(tmp_path: Path) -> None:
    def probe(*args: str) -> int:
        return subprocess.run([*_ccms(), "probe", *args], capture_output=True, timeout=30).returncode

    with serve(tmp_path / "var") as server:
        assert probe("--port", str(server.port)) == 0
        assert probe("--port", str(server.port), "--path", "/health/ready") == 0
        assert probe("--port", str(server.port), "--path", "/no/such/probe") == 1
    assert probe("--port", str(free_port())) == 1  # nothing listens: unhealthy


def test_a_scrape_adds_up_the_requests_of_every_api_process(tmp_path: Path) -> None:
    port = free_port()
    with deployment(tmp_path / "var", {}) as running:
        running.migrate()
        started = running.start("api", ["serve", "--no-migrate", "--workers", "2"], {"CCMS_PORT": str(port)})
        api = running.wait_api(Server(started.process, port, started.log))
        for _ in range(40):  # a new connection each: the kernel spreads them over both processes
            httpx.post(f"{api.url}/graphql", json={"query": "query Count { me { username } }"})
        served_by = {
            json.loads(line)["process"]
            for line in api.output().splitlines()
            if line.startswith("{") and '"operation": "Count"' in line
        }
        samples = scrape(port)
    assert samples['ccms_requests_total{"operation": "Count", "route": "/graphql", "status": "200"}'] == 40
    assert len(served_by) == 2, "both uvicorn processes served some (else this proves nothing)"


def scrape(port: int) -> dict[str, float]:
    """name{labels} -> value, from a real scrape of a metrics port; empty while it does not answer
    (dramatiq starts the worker's metrics process once its worker processes are up)."""
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    except httpx.TransportError:
        return {}
    return {
        sample.name + json.dumps(sample.labels, sort_keys=True): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_worker_and_scheduler_serve_metrics_and_beat_and_the_api_is_ready_only_with_both(
    tmp_path: Path,
) -> None:
    require_redis()
    redis_url = claim_redis_db(REDIS_URL, avoid=(0, redis_db(REDIS_URL)))
    worker_port, scheduler_port = free_port(), free_port()
    env = {
        "REDIS_URL": redis_url,
        "CCMS_HEARTBEAT_SECONDS": "1",
        "CCMS_SWEEP_INTERVAL_SECONDS": "2",
        "CCMS_WORKER_METRICS_PORT": str(worker_port),
        "CCMS_SCHEDULER_METRICS_PORT": str(scheduler_port),
    }
    try:
        with deployment(tmp_path / "var", env) as running:
            running.migrate()
            api = running.wait_api(running.start_api("api"))

            def ready() -> httpx.Response:
                return httpx.get(f"{api.url}/health/ready", timeout=5)

            alone = ready()
            assert alone.status_code == 503, alone.text
            assert alone.json()["worker"] == "missing" and alone.json()["scheduler"] == "missing"

            worker = running.start_worker()
            scheduler = running.start_scheduler()
            running.wait_worker(worker)
            running.wait_scheduler(scheduler)
            whole = wait_for(lambda: ready().status_code == 200 and ready(), 60, "the API ready")
            assert isinstance(whole, httpx.Response) and whole.json()["status"] == "ok"

            # A job for the worker, sent as the API sends them; the worker's port shows it ran.
            message: Message[Any] = Message(
                queue_name=QUEUE, actor_name="sweep", args=(), kwargs={}, options={}
            )
            RedisBroker(url=redis_url).enqueue(message)
            key = 'ccms_job_duration_seconds_count{"job": "sweep", "outcome": "ok"}'
            wait_for(lambda: scrape(worker_port).get(key, 0) >= 1, 60, "the worker's sweep job counted")
            worker_metrics = scrape(worker_port)
            assert 'ccms_job_queue_depth{"state": "ready"}' in worker_metrics
            assert worker_metrics["ccms_heartbeat_timestamp_seconds{}"] > time.time() - 60
            assert httpx.get(f"http://127.0.0.1:{worker_port}/health/live").json() == {"status": "ok"}

            wait_for(
                lambda: scrape(scheduler_port).get("ccms_sweep_last_run_timestamp_seconds{}", 0) > 0,
                60,
                "the scheduler's sweep",
            )
            assert scrape(scheduler_port)["ccms_heartbeat_timestamp_seconds{}"] > time.time() - 60

            # One format in every process: the worker's and the scheduler's lines are JSON too.
            for process in (worker, scheduler):
                lines = [line for line in process.output().splitlines() if line.strip()]
                assert lines and all(line.startswith("{") for line in lines), process.output()[-2000:]
                assert all(json.loads(line)["level"] for line in lines)

            # The scheduler stops; within three beats its heartbeat expires and the API is not ready.
            running.stop(scheduler)
            gone = wait_for(lambda: ready().status_code == 503 and ready(), 30, "the scheduler missed")
            assert isinstance(gone, httpx.Response) and gone.json()["scheduler"] == "missing"
    finally:
        import redis

        with redis.Redis.from_url(redis_url) as client:
            client.flushdb()
