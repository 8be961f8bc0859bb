"""Sign-in under attack: `{ me }` latency on a process while 40 concurrent wrong logins hit it.

    .venv/bin/python bench/signin.py [--before main] [--rounds 5] [--logins 40]

Starts two `ccms serve` processes on the embedded SQLite default, each with its own fresh
var directory: "before" runs the code of the git revision `--before` (exported with `git
archive` into a temporary directory; nothing in the working tree changes), "after" runs this
working tree. Rounds alternate A B A B. In each round, for each side:

- idle: the latency of one `{ me }` with nothing else going on;
- storm: 40 wrong logins sent at once (one connection each), then, 50 ms later, one `{ me }`
  on the same process: its latency, and how long the last login took to be answered.

Two storms are measured: "one user" (every login for the same unknown username from one
client address, as the issue's probe did; from the second round on the throttle has locked
it) and "40 users" (40 usernames from 40 client addresses, given by X-Forwarded-For, so the
throttle lets every one of them reach the password hash: this isolates hashing off the loop).

Both sides must answer `{ me }` with the same user and every login with an error; the script
checks that, then prints medians and the before/after ratios. It asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from bench.machine import header  # noqa: E402
from tests.e2e.server import free_port  # noqa: E402

ADMIN = ("chief", "chief-password")
LOGIN = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token errors { code } } }"
ME = "{ me { username } }"


@dataclass
class Side:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    token: str = ""
    idle: list[float] = field(default_factory=list)
    storm: dict[str, list[float]] = field(default_factory=dict)
    last_login: dict[str, list[float]] = field(default_factory=dict)


@contextlib.contextmanager
def exported(revision: str) -> Iterator[Path]:
    """The tree of `revision`, exported into a temporary directory."""
    directory = Path(tempfile.mkdtemp(prefix="ccms-before-"))
    try:
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", revision], check=True, capture_output=True
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(directory, filter="data")
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextlib.contextmanager
def serving(name: str, code: Path, var: Path, extra: dict[str, str] | None = None) -> Iterator[Side]:
    """`ccms serve` from the sources in `code`, on SQLite under `var`."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CCMS_", "DATABASE_URL", "REDIS_URL"))}
    env |= {
        "PYTHONPATH": str(code),
        "CCMS_VAR_DIR": str(var),
        "CCMS_PORT": str(port),
        "CCMS_ADMIN_USERNAME": ADMIN[0],
        "CCMS_ADMIN_PASSWORD": ADMIN[1],
        "CCMS_DEMO": "0",
        **(extra or {}),
    }
    var.mkdir(parents=True, exist_ok=True)
    log = (var.parent / f"{name}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-c", "from cli.main import main; main()", "serve"],
        cwd=code,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    side = Side(name, f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{name}: ccms serve exited, see {log.name}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{side.url}/health", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name}: not ready")
            time.sleep(0.1)
        yield side
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


async def post(url: str, query: str, variables: dict | None = None, **headers: str) -> dict:
    async with httpx.AsyncClient(timeout=120) as client:
        response = await client.post(
            f"{url}/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        response.raise_for_status()
        return response.json()


async def me(side: Side) -> float:
    started = time.perf_counter()
    body = await post(side.url, ME, authorization=f"Bearer {side.token}")
    elapsed = time.perf_counter() - started
    assert body["data"]["me"] == {"username": ADMIN[0]}, body  # both sides give the same answer
    return elapsed


async def storm(side: Side, kind: str, logins: int, round_number: int) -> tuple[float, float]:
    """Fire the wrong logins, then `{ me }` 50 ms later; (its latency, time to the last login)."""

    async def wrong(n: int) -> float:
        if kind == "one user":
            username, address = "intruder", "198.51.100.1"
        else:
            username, address = f"nobody.{round_number}.{n}", f"198.51.{round_number}.{n + 1}"
        body = await post(side.url, LOGIN, {"u": username, "p": f"guess {n}"}, **{"x-forwarded-for": address})
        assert body["data"]["login"]["token"] is None and body["data"]["login"]["errors"], body
        return time.perf_counter()

    started = time.perf_counter()
    tasks = [asyncio.create_task(wrong(n)) for n in range(logins)]
    await asyncio.sleep(0.05)
    latency = await me(side)
    finished = await asyncio.gather(*tasks)
    return latency, max(finished) - started


async def run(sides: list[Side], rounds: int, logins: int) -> None:
    for side in sides:
        body = await post(side.url, LOGIN, {"u": ADMIN[0], "p": ADMIN[1]})
        side.token = body["data"]["login"]["token"]
        await me(side)  # warm up
    for round_number in range(1, rounds + 1):
        for side in sides:  # A B A B
            side.idle.append(await me(side))
            for kind in ("one user", "40 users"):
                latency, last = await storm(side, kind, logins, round_number)
                side.storm.setdefault(kind, []).append(latency)
                side.last_login.setdefault(kind, []).append(last)
                await asyncio.sleep(0.5)  # let the process settle before the next measure


def median(values: list[float]) -> float:
    # Not statistics.median: run as a script, `import statistics` finds bench/statistics.py.
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def ms(values: list[float]) -> str:
    return f"{median(values) * 1000:8.0f} ms"


def report(before: Side, after: Side, rounds: int, logins: int) -> None:
    print(header())
    print(
        f"{rounds} rounds, {logins} concurrent wrong logins, medians; `{{ me }}` sent 50 ms into the storm\n"
    )
    print(f"{'':38}{'before':>11}{'after':>11}{'before/after':>14}")
    rows = [("{ me }, idle", before.idle, after.idle)]
    for kind in ("one user", "40 users"):
        rows.append((f"{{ me }} during {logins} logins, {kind}", before.storm[kind], after.storm[kind]))
        rows.append((f"  last login answered, {kind}", before.last_login[kind], after.last_login[kind]))
    for label, a, b in rows:
        print(f"{label:38}{ms(a):>11}{ms(b):>11}{median(a) / median(b):>13.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--before", default="main", help="the git revision to compare with (default: main)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--logins", type=int, default=40)
    parser.add_argument(
        "--hash-threads",
        type=int,
        help="CCMS_PASSWORD_HASH_THREADS for the after side (default: its own default)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ccms-signin-") as work, exported(args.before) as old:
        root = Path(work)
        with (
            serving("before", old, root / "before" / "var") as before,
            serving("after", REPO, root / "after" / "var") as after,
        ):
            asyncio.run(run([before, after], args.rounds, args.logins))
            report(before, after, args.rounds, args.logins)


if __name__ == "__main__":
    main()
