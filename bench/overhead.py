"""GraphQL overhead: a small signed-in query against the framework floor, over real HTTP.

    .venv/bin/python bench/overhead.py [--seconds 5] [--rounds 4] [--connections 32] [--sqlite]

A is `ccms serve` (one process, PostgreSQL by default, a fresh database; `--sqlite` for the
embedded default) answering `{ me { username role } }` for the signed-in admin: token check,
user lookup, parsing, validation, execution and JSON. B is the floor: a bare Starlette endpoint
that returns the same bytes, served by the same uvicorn settings (cli.main.run_uvicorn). The
script checks that B's body equals A's, then runs A B A B: in each round one load generator
(a separate process: keep-alive connections, each sending its next request when the last
answer is in) drives one side for `--seconds`, and counts the answers, all of which must be
200 with that body. It prints requests per second, p50 and p99 per side and round, and the
median ratio A/B (issue goal: at least 0.25). It asserts nothing about speed.

On a two-core machine the server gets one core and the load generator the other; both sides
are measured with the same generator, so its own cost is in both figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from bench.machine import header  # noqa: E402
from tests.backends import create_pg_database, drop_pg_database, postgres_available  # noqa: E402
from tests.e2e.server import free_port  # noqa: E402

ADMIN = ("chief", "chief-password")
QUERY = "{ me { username role } }"
LOGIN = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }"
FLOOR_BODY = "CCMS_BENCH_FLOOR_BODY"


def floor_app() -> object:
    """The bare endpoint: POST /graphql answers the bytes it was given, GET /health 200."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    body = Path(os.environ[FLOOR_BODY]).read_bytes()

    async def graphql(request: Request) -> Response:
        await request.body()
        return Response(body, media_type="application/json")

    async def health(request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    return Starlette(routes=[Route("/graphql", graphql, methods=["POST"]), Route("/health", health)])


def floor() -> None:
    from cli.main import run_uvicorn
    from core.settings import Settings

    run_uvicorn("bench.overhead:app", Settings.from_env())


# The floor's uvicorn imports this module for `app`.
app = floor_app() if os.environ.get(FLOOR_BODY) else None


@contextlib.contextmanager
def process(name: str, argv: list[str], env: dict[str, str], work: Path) -> Iterator[tuple[str, int]]:
    port = free_port()
    log = (work / f"{name}.log").open("wb")
    child = subprocess.Popen(
        argv, cwd=REPO, env={**env, "CCMS_PORT": str(port)}, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if child.poll() is not None:
                raise RuntimeError(f"{name} exited, see {log.name}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name}: not ready")
            time.sleep(0.1)
        yield url, child.pid
    finally:
        child.terminate()
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
        log.close()


# --- the load generator: raw HTTP/1.1 over keep-alive connections, in its own process ---


class _Connection(asyncio.Protocol):
    def __init__(self, request: bytes, expected: bytes, until: float, latencies: list[float]) -> None:
        self.request, self.expected, self.until, self.latencies = request, expected, until, latencies
        self.buffer = b""
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.bad = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._send()

    def _send(self) -> None:
        self.sent = time.perf_counter()
        self.transport.write(self.request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1").lower()
            length = int(head.split("content-length:", 1)[1].split("\r\n", 1)[0])
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            now = time.perf_counter()
            self.latencies.append(now - self.sent)
            if not head.startswith("http/1.1 200") or body != self.expected:
                self.bad += 1
            if now >= self.until:
                self.transport.close()  # type: ignore[attr-defined]
                return
            self._send()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


def _drive(port: int, request: bytes, expected: bytes, seconds: float, connections: int, out: object) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass

    async def main() -> tuple[list[float], int, float]:
        loop = asyncio.get_running_loop()
        latencies: list[float] = []
        started = time.perf_counter()
        until = started + seconds
        protocols = []
        for _ in range(connections):
            _, protocol = await loop.create_connection(
                lambda: _Connection(request, expected, until, latencies), "127.0.0.1", port
            )
            protocols.append(protocol)
        await asyncio.gather(*(p.done for p in protocols))
        return latencies, sum(p.bad for p in protocols), time.perf_counter() - started

    out.send(asyncio.run(main()))  # type: ignore[attr-defined]


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load(
    url: str, pid: int, request: bytes, expected: bytes, seconds: float, connections: int
) -> tuple[float, float, float, float]:
    """(requests per second, p50 ms, p99 ms, server CPU ms per request) from a fresh generator."""
    port = int(url.rsplit(":", 1)[1])
    cpu = cpu_seconds(pid)
    receive, send = multiprocessing.Pipe(duplex=False)
    generator = multiprocessing.Process(
        target=_drive, args=(port, request, expected, seconds, connections, send)
    )
    generator.start()
    latencies, bad, elapsed = receive.recv()
    generator.join()
    cpu = cpu_seconds(pid) - cpu
    if bad:
        raise AssertionError(f"{url}: {bad} answers were not 200 with the expected body")
    latencies.sort()
    return (
        len(latencies) / elapsed,
        latencies[len(latencies) // 2] * 1000,
        latencies[int(len(latencies) * 0.99)] * 1000,
        cpu * 1000 / len(latencies),
    )


def http_request(token: str) -> bytes:
    body = json.dumps({"query": QUERY}).encode()
    return (
        b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body
    )


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def run(args: argparse.Namespace, database_url: str | None, work: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CCMS_", "DATABASE_URL", "REDIS_URL"))}
    env |= {
        "CCMS_VAR_DIR": str(work / "var"),
        "CCMS_ADMIN_USERNAME": ADMIN[0],
        "CCMS_ADMIN_PASSWORD": ADMIN[1],
        "CCMS_DEMO": "0",
        "CCMS_SECRET_KEY": "bench-overhead-secret-key-0123456789",
        "PYTHONPATH": str(REPO),
    }
    if database_url:
        env["DATABASE_URL"] = database_url
    with process("ccms", [sys.executable, "-m", "cli.main", "serve"], env, work) as (ccms, ccms_pid):
        token = httpx.post(
            f"{ccms}/graphql", json={"query": LOGIN, "variables": {"u": ADMIN[0], "p": ADMIN[1]}}
        ).json()["data"]["login"]["token"]
        request = http_request(token)
        answer = httpx.post(
            f"{ccms}/graphql", json={"query": QUERY}, headers={"authorization": f"Bearer {token}"}
        )
        assert answer.json() == {"data": {"me": {"username": ADMIN[0], "role": "ADMIN"}}}, answer.text
        body_file = work / "body.json"
        body_file.write_bytes(answer.content)
        floor_env = {**env, FLOOR_BODY: str(body_file)}
        argv = [sys.executable, "-c", "from bench.overhead import floor; floor()"]
        with process("floor", argv, floor_env, work) as (bare, bare_pid):
            same = httpx.post(f"{bare}/graphql", json={"query": QUERY})
            assert same.content == answer.content, "the floor must answer the same bytes"
            load(ccms, ccms_pid, request, answer.content, 1, args.connections)  # warm up both
            load(bare, bare_pid, request, answer.content, 1, args.connections)
            print(header())
            print(
                f"`{QUERY}` as the admin, {args.connections} keep-alive connections, "
                f"{args.seconds:g} s a side a round, {'SQLite' if not database_url else 'PostgreSQL'}\n"
            )
            print(f"{'round':>5} {'side':<10}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'CPU ms/req':>12}")
            ratios, cpu_ratios = [], []
            for round_number in range(1, args.rounds + 1):
                rates, cpus = {}, {}
                for name, url, pid in (("ccms", ccms, ccms_pid), ("floor", bare, bare_pid)):  # A B A B
                    rate, p50, p99, cpu = load(
                        url, pid, request, answer.content, args.seconds, args.connections
                    )
                    rates[name], cpus[name] = rate, cpu
                    print(f"{round_number:>5} {name:<10}{rate:>10,.0f}{p50:>9.1f}{p99:>9.1f}{cpu:>12.3f}")
                ratios.append(rates["ccms"] / rates["floor"])
                cpu_ratios.append(cpus["floor"] / cpus["ccms"])
            print(f"\nccms / floor requests per second, median of {args.rounds} rounds: {median(ratios):.3f}")
            print(
                f"floor / ccms server CPU per request, median: {median(cpu_ratios):.3f} "
                "(the same ratio at full use of one core, steadier on a busy machine); goal >= 0.25"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--sqlite", action="store_true", help="the embedded default instead of PostgreSQL")
    args = parser.parse_args()
    use_pg = not args.sqlite
    if use_pg and not postgres_available():
        sys.exit("PostgreSQL does not answer (CCMS_TEST_DATABASE_URL); use --sqlite")
    database_url = asyncio.run(create_pg_database("ccms_bench")) if use_pg else None
    try:
        with tempfile.TemporaryDirectory(prefix="ccms-overhead-") as work:
            run(args, database_url, Path(work))
    finally:
        if database_url:
            asyncio.run(drop_pg_database(database_url))


if __name__ == "__main__":
    main()
