"""A whole deployment as real processes: `ccms migrate`, API replicas, a worker and a scheduler.

Each process runs in its own session (process group), so stopping it also stops the
children it forked (dramatiq's worker processes), and SIGKILL really kills a worker.
Every process started here is stopped by `Deployment.close()`, which the context
manager always calls.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.backends import redis_key
from tests.e2e.server import _INHERITED_SETTINGS, REPO, START_TIMEOUT, Server, _ccms, free_port

SECRET = "e2e-shared-secret-key-0123456789-abcdefghijklmnop"


@dataclass
class Process:
    """One started process and the file its output goes to."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    @property
    def running(self) -> bool:
        return self.process.poll() is None


def redis_url_with_db(url: str, db: int) -> str:
    """The same Redis server, another database number."""
    base, _, last = url.rstrip("/").rpartition("/")
    return f"{base}/{db}" if last.isdigit() and "://" in base else f"{url.rstrip('/')}/{db}"


def redis_db(url: str) -> int:
    from redis.connection import parse_url

    return int(parse_url(url).get("db") or 0)


def claim_redis_db(url: str, *, avoid: tuple[int, ...] = (0,), ttl_seconds: int = 900) -> str:
    """A Redis database number of our own on the server of `url`, empty: the first that
    has no key and no client connected, and that we claim first (a key set NX). Pub/sub and
    dramatiq's queues would otherwise mix with other deployments sharing the server.

    `CCMS_TEST_REDIS_DB` forces a number instead."""
    import redis

    forced = os.environ.get("CCMS_TEST_REDIS_DB")
    base = redis_url_with_db(url, 0)
    with redis.Redis.from_url(base) as probe:
        count = int(probe.config_get("databases").get("databases", 16))
        in_use = {int(c["db"]) for c in probe.client_list()}
    candidates = [int(forced)] if forced else [n for n in range(count - 1, 0, -1) if n not in avoid]
    for number in candidates:
        if not forced and number in in_use:
            continue
        chosen = redis_url_with_db(url, number)
        with redis.Redis.from_url(chosen) as client:
            if forced:
                client.flushdb()
            elif client.dbsize() != 0:
                continue
            # Empty, so flushed; whoever sets the key first has it.
            if client.set(redis_key("e2e", "claimed"), str(os.getpid()), nx=True, ex=ttl_seconds):
                return chosen
    raise RuntimeError(f"no free Redis database on {base} (set CCMS_TEST_REDIS_DB)")


def wait_for(condition: Callable[[], object], timeout: float, what: str, *, interval: float = 0.05) -> object:
    """Poll until `condition()` is truthy; returns its value. Bounded: raises TimeoutError."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout} s")
        time.sleep(interval)


class Deployment:
    """Processes sharing one database, one Redis database number and one secret key."""

    def __init__(self, var_dir: Path, env: Mapping[str, str]) -> None:
        self.var_dir = var_dir
        var_dir.mkdir(parents=True, exist_ok=True)
        base = {k: v for k, v in os.environ.items() if not k.startswith(_INHERITED_SETTINGS)}
        self.env = base | {
            "CCMS_VAR_DIR": str(var_dir),
            "CCMS_HOST": "127.0.0.1",
            "CCMS_SECRET_KEY": SECRET,
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        self.processes: list[Process] = []
        self._terminated: set[int] = set()

    def __enter__(self) -> Deployment:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- starting -------------------------------------------------------------------------

    def start(self, name: str, args: list[str], env: Mapping[str, str] | None = None) -> Process:
        log = self.var_dir / f"{name}-{len(self.processes)}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [*_ccms(), *args],
                cwd=REPO,
                env=self.env | dict(env or {}),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        started = Process(name, process, log)
        self.processes.append(started)
        return started

    def migrate(self, timeout: float = 60) -> None:
        migrate = self.start("migrate", ["migrate"])
        try:
            code = migrate.process.wait(timeout=timeout)
        finally:
            self.stop(migrate)
        assert code == 0, f"ccms migrate exited with {code}:\n{migrate.output()}"

    def start_api(self, name: str, env: Mapping[str, str] | None = None) -> Server:
        """`ccms serve --no-migrate` on a free port; call `wait_api` before using it."""
        port = free_port()
        started = self.start(name, ["serve", "--no-migrate"], {"CCMS_PORT": str(port), **(env or {})})
        return Server(started.process, port, started.log)

    def wait_api(self, server: Server, timeout: float = START_TIMEOUT) -> Server:
        """Until the API answers with its database. Not /health/ready: that also waits for a
        worker and a scheduler, which a test may start later, or not at all."""

        def ready() -> bool:
            if server.process.poll() is not None:
                raise RuntimeError(f"ccms serve exited with {server.process.returncode}:\n{server.output()}")
            try:
                return httpx.get(f"{server.url}/health", timeout=5).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(ready, timeout, f"ccms serve on port {server.port}")
        return server

    def start_worker(self, name: str = "worker") -> Process:
        return self.start(name, ["worker", "--processes", "1", "--threads", "4"])

    def start_scheduler(self, name: str = "scheduler") -> Process:
        return self.start(name, ["scheduler"])

    def wait_output(self, process: Process, text: str, timeout: float = START_TIMEOUT) -> None:
        def printed() -> bool:
            if text in process.output():
                return True
            if not process.running:
                raise RuntimeError(
                    f"{process.name} exited with {process.process.returncode}:\n{process.output()}"
                )
            return False

        wait_for(printed, timeout, f"{process.name} printing {text!r}")

    def wait_worker(self, worker: Process, timeout: float = START_TIMEOUT) -> None:
        # Printed by dramatiq once every worker process has booted (our Runtime middleware
        # connects the database and the publisher in before_worker_boot, before this).
        self.wait_output(worker, "Worker process is ready for action.", timeout)

    def wait_scheduler(self, scheduler: Process, timeout: float = START_TIMEOUT) -> None:
        self.wait_output(scheduler, "Sweeping every", timeout)

    # -- stopping -------------------------------------------------------------------------

    def kill(self, process: Process | Server) -> None:
        """SIGKILL the whole process group: no shutdown hooks, no acks, nothing flushed."""
        popen = process.process
        with contextlib.suppress(ProcessLookupError):
            os.killpg(popen.pid, signal.SIGKILL)
        popen.wait(timeout=10)

    def stop(self, process: Process | Server, timeout: float = 10) -> None:
        """SIGTERM to the process (graceful: it stops its own children, as dramatiq's main
        process does), then SIGKILL to the whole process group after `timeout`."""
        popen = process.process
        if popen.poll() is None:
            self._terminate(popen)
            with contextlib.suppress(subprocess.TimeoutExpired):
                popen.wait(timeout=timeout)
        # Children outlive a parent that exited on its own: always sweep the group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(timeout=timeout)

    def _terminate(self, popen: subprocess.Popen[bytes]) -> None:
        # Once: dramatiq's main process takes a second SIGTERM as "kill the workers now".
        if popen.pid not in self._terminated:
            self._terminated.add(popen.pid)
            with contextlib.suppress(ProcessLookupError):
                popen.terminate()

    def close(self) -> None:
        """Stop everything started here: SIGTERM to all at once, then wait for each."""
        for process in self.processes:
            if process.running:
                self._terminate(process.process)
        for process in reversed(self.processes):
            with contextlib.suppress(Exception):
                self.stop(process)

    def outputs(self) -> str:
        """Every process's output, for failure messages."""
        return "\n".join(f"==== {p.name} ({p.log.name}) ====\n{p.output()[-4000:]}" for p in self.processes)


@contextlib.contextmanager
def deployment(var_dir: Path, env: Mapping[str, str]) -> Iterator[Deployment]:
    with Deployment(var_dir, env) as running:
        yield running
