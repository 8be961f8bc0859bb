"""Prometheus metrics of every CCMS process, and the small server worker and scheduler expose.

The API serves them at /metrics; `ccms worker` and `ccms scheduler` on a port of their own
(CCMS_WORKER_METRICS_PORT, CCMS_SCHEDULER_METRICS_PORT), which also answers /health/live.
Where one command runs several processes (`ccms serve --workers N`, `ccms worker --processes N`)
the command sets PROMETHEUS_MULTIPROC_DIR before any of them starts, each process writes its
figures there, and a scrape adds them up (prometheus_client's multiprocess mode).

Names follow Prometheus' conventions: `ccms_` first, `_total` on counters, seconds for time.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

REQUESTS = Counter(
    "ccms_requests_total",
    "HTTP requests served, by route (GraphQL: by operation name) and status code.",
    ["route", "operation", "status"],
)
LATENCY = Histogram(
    "ccms_request_duration_seconds",
    "Time to serve an HTTP request, by route and GraphQL operation name.",
    ["route", "operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
ERRORS = Counter(
    "ccms_errors_total",
    "Errors returned to clients by stable code (payload errors and top-level errors).",
    ["code"],
)
SUBSCRIPTIONS = Gauge(
    "ccms_subscriptions_open",
    "GraphQL subscriptions currently open in this process.",
    multiprocess_mode="livesum",
)
JOB_DURATION = Histogram(
    "ccms_job_duration_seconds",
    "Time a background job took, by job name and outcome (ok or failed).",
    ["job", "outcome"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800),
)
ALARMS = Counter("ccms_alarms_raised_total", "Alarms raised, by kind.", ["kind"])
ROWS_INGESTED = Counter(
    "ccms_rows_ingested_total",
    "Rows written by the importers, by source (history, energy CSV, energy batch).",
    ["source"],
)
SWEEP_LAST_RUN = Gauge(
    "ccms_sweep_last_run_timestamp_seconds",
    "When the periodic sweep last finished without error (Unix time).",
    multiprocess_mode="max",
)
SWEEP_FAILURES = Counter("ccms_sweep_failures_total", "Sweeps that raised an error.")
HEARTBEAT = Gauge(
    "ccms_heartbeat_timestamp_seconds",
    "When this process last wrote its heartbeat (Unix time).",
    multiprocess_mode="max",
)


class QueueDepth(Collector):
    """The job queue's depth, read when scraped: messages waiting to run, and delayed ones.
    `read` returns (ready, delayed) or None when the queue cannot be reached."""

    def __init__(self, read: Callable[[], tuple[int, int] | None]) -> None:
        self.read = read

    def collect(self) -> Iterable[GaugeMetricFamily]:
        depth = self.read()
        family = GaugeMetricFamily(
            "ccms_job_queue_depth", "Jobs waiting in the queue: ready to run, and delayed.", labels=["state"]
        )
        if depth is not None:
            family.add_metric(["ready"], depth[0])
            family.add_metric(["delayed"], depth[1])
        yield family


def registry(extra: Iterable[Collector] = ()) -> CollectorRegistry:
    """What a scrape reads: this process's metrics, or every process's in multiprocess mode,
    plus collectors computed at scrape time."""
    scrape = CollectorRegistry()
    if os.environ.get(MULTIPROCESS_DIR):
        MultiProcessCollector(scrape)  # type: ignore[no-untyped-call]  # prometheus_client leaves it unannotated
    else:
        scrape.register(_Default())
    for collector in extra:
        scrape.register(collector)
    return scrape


class _Default(Collector):
    # The global registry's metrics, re-collected into a scrape registry of our own, so that
    # scrape-time collectors can be added per scrape without touching the global one.
    def collect(self) -> Iterable[object]:  # type: ignore[override]
        return REGISTRY.collect()


def exposition(extra: Iterable[Collector] = ()) -> bytes:
    return generate_latest(registry(extra))


def prepare_multiprocess(directory: str) -> None:
    """Before starting several processes: a fresh directory for their figures, named in the
    environment they inherit. Figures of a previous run would otherwise be added in."""
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        if name.endswith(".db"):
            os.remove(os.path.join(directory, name))
    os.environ[MULTIPROCESS_DIR] = directory


def serve(host: str, port: int, extra: Iterable[Collector] = ()) -> ThreadingHTTPServer:
    """/metrics and /health/live on a port of their own, in a daemon thread (worker, scheduler)."""
    collectors = list(extra)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                body, kind, status = exposition(collectors), CONTENT_TYPE_LATEST, 200
            elif self.path == "/health/live":
                body, kind, status = b'{"status":"ok"}', "application/json", 200
            else:
                body, kind, status = b"not found", "text/plain", 404
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return None  # scrapes every few seconds would drown the log

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server


def timer() -> Callable[[], float]:
    """Seconds since the call, for a histogram's observe()."""
    start = time.perf_counter()
    return lambda: time.perf_counter() - start
