"""Subscription fan-out benchmark: how long a review takes to reach 1,000 live clients.

    .venv/bin/python bench/subscriptions.py [--subscribers 1000] [--rounds 5] [--apis 2]

Starts a fresh PostgreSQL database, an empty Redis database number and `--apis` API
processes (`ccms serve --no-migrate` after one `ccms migrate`; no worker or scheduler is
needed), builds the data through GraphQL, then opens `--subscribers` graphql-transport-ws
connections spread evenly over the API processes. Every subscriber is in scope of the one
notice: members of its enterprise, a regulator of its province and a national regulator,
each token used by many connections. Each round the member submits an application (every
subscriber must see it: the round's barrier) and a regulator reviews it through the first
API process (REJECT, and APPROVE in the last round).

Per subscriber and round it records the receive time of the APPLICATION_REVIEWED event and
reports, in milliseconds:

- commit -> delivery: receive time minus the event's `at` (set right after the review's
  transaction commits; same machine, same clock);
- mutation -> delivery: receive time minus the moment the review request was sent.

Everything it starts (processes, database, Redis keys) is removed at the end, even on error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from redis.asyncio import Redis  # noqa: E402
from websockets.exceptions import ConnectionClosed  # noqa: E402

from bench.machine import header  # noqa: E402
from tests.backends import REDIS_URL, create_pg_database, drop_pg_database  # noqa: E402
from tests.e2e.cast import API  # noqa: E402
from tests.e2e.deployment import Deployment, claim_redis_db, redis_db  # noqa: E402
from tests.e2e.live import Subscriber  # noqa: E402

ADMIN = {"CCMS_ADMIN_USERNAME": "chief", "CCMS_ADMIN_PASSWORD": "chief-password"}
SUBSCRIPTION = """
subscription($id: ID) {
  noticeStatusChanged(noticeId: $id) {
    __typename
    ... on NoticeStatusChange {
      noticeId enterpriseId event oldStatus newStatus applicationId applicationStatus rejectionReason at
    }
    ... on Resync { at reason }
  }
}"""
REASON = "The verification report is not signed by the verifier."


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil
    return ordered[int(rank) - 1]


def summary(values: list[float]) -> str:
    if not values:
        return "no data"
    return (
        f"min {min(values):6.1f}   p50 {percentile(values, 50):7.1f}   p99 {percentile(values, 99):7.1f}   "
        f"max {max(values):7.1f}   mean {statistics.fmean(values):7.1f}"
    )


# (event, applicationId) of a payload; a Resync carries neither.
Key = tuple[str | None, str | None]


class Tally:
    """Counts the subscribers that received the awaited event; wakes the bench when all have."""

    def __init__(self) -> None:
        self.wanted: tuple[str, str] | None = None
        self.count = 0
        self.total = 0
        self.done = asyncio.Event()

    def expect(self, event: str, application: str, total: int) -> None:
        self.wanted, self.count, self.total = (event, application), 0, total
        self.done.clear()

    def hit(self, key: Key) -> None:
        if key == self.wanted:
            self.count += 1
            if self.count == self.total:
                self.done.set()


class Probe(Subscriber):
    """A subscriber that does as little as possible per message: take the time, parse, note
    (event, applicationId) -> (received, at). Its own cost delays the next socket's read:
    every client shares this one process."""

    def __init__(self, url: str, token: str, notice: str, tally: Tally) -> None:
        super().__init__(url, token, SUBSCRIPTION, {"id": notice})
        self.tally = tally
        self.hits: dict[Key, tuple[float, str | None]] = {}

    async def _read(self) -> None:
        assert self.ws is not None
        with contextlib.suppress(ConnectionClosed):
            async for raw in self.ws:
                now = time.time()
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "next":
                    payload = message["payload"]
                    if payload.get("errors"):
                        self.errors.append(payload["errors"])
                    change: dict[str, str | None] = (payload.get("data") or {}).get(
                        "noticeStatusChanged"
                    ) or {}
                    key = (change.get("event"), change.get("applicationId"))
                    self.hits[key] = (now, change.get("at"))
                    self.tally.hit(key)
                elif kind == "pong":
                    self._pongs.put_nowait(None)
                elif kind == "ping":
                    await self.ws.send(json.dumps({"type": "pong"}))
                else:
                    self.errors.append(message)


async def open_probes(
    urls: list[str], tokens: list[str], notice: str, count: int, tally: Tally
) -> list[Probe]:
    probes = [Probe(urls[i % len(urls)], tokens[i % len(tokens)], notice, tally) for i in range(count)]
    gate = asyncio.Semaphore(50)

    async def start(probe: Probe) -> None:
        async with gate:
            await probe.start(timeout=30)

    started = time.monotonic()
    await asyncio.gather(*(start(p) for p in probes))
    print(f"{count} subscribers connected and subscribed in {time.monotonic() - started:.1f} s", flush=True)
    return probes


async def wait_all(
    probes: list[Probe], tally: Tally, event: str, application: str, timeout: float
) -> list[tuple[float, float]]:
    """When the event reached each probe and its `at` (commit time), as Unix timestamps;
    only the probes it reached within the timeout."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(tally.done.wait(), timeout)
    key = (event, application)
    return [
        (received, datetime.fromisoformat(at).timestamp())
        for received, at in (p.hits[key] for p in probes if key in p.hits)
        if at is not None
    ]


async def run(args: argparse.Namespace) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * args.subscribers + 256)), hard))
    redis_url = claim_redis_db(REDIS_URL, avoid=(0, redis_db(REDIS_URL)))
    var_dir = Path(tempfile.mkdtemp(prefix="ccms-bench-"))
    database_url: str | None = None
    deployment: Deployment | None = None
    subscribers: list[Probe] = []
    apis: list[API] = []
    try:
        database_url = await create_pg_database("ccms_bench")
        env = {**ADMIN, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "CCMS_DEMO": "0"}
        deployment = Deployment(var_dir / "var", env)
        deployment.migrate()
        servers = [deployment.start_api(f"api-{i}") for i in range(args.apis)]
        for server in servers:
            deployment.wait_api(server)
        apis = [API(server.url, timeout=60) for server in servers]
        api = apis[0]
        pids = ", ".join(str(server.process.pid) for server in servers)
        database = database_url.rsplit("/", 1)[1]
        print(f"{args.apis} API processes up (pids {pids}); database {database}, Redis {redis_url}")

        admin = await api.login("chief", "chief-password")
        enterprise = await api.enterprise(admin, "广州华润热电有限公司 bench", "440113")
        regulator = await api.user(admin, "bench_regulator", "REGULATOR", region_prefix="44")
        national = await api.user(admin, "bench_national", "REGULATOR", region_prefix="")
        members = [
            await api.user(admin, f"bench_member_{i}", "ENTERPRISE", enterprise_id=enterprise)
            for i in range(5)
        ]
        notice = await api.issue(regulator, enterprise, ack_hours=72)
        await api.acknowledge(members[0], notice)

        tally = Tally()
        subscribers = await open_probes(
            [s.url for s in servers], [*members, regulator, national], notice, args.subscribers, tally
        )
        commit_ms: list[float] = []
        mutation_ms: list[float] = []
        cpu_ms: list[list[float]] = []  # per round: each API process, then this client
        print(
            f"\n{'round':>5} {'received':>9}   commit -> delivery (ms)"
            + " " * 50
            + "mutation -> delivery (ms)"
        )
        for round_number in range(1, args.rounds + 1):
            # The submission is the round's barrier: every subscriber has it before the review.
            application = await api.submit(members[0], notice)
            tally.expect("APPLICATION_SUBMITTED", application, len(subscribers))
            tally.count = sum(("APPLICATION_SUBMITTED", application) in p.hits for p in subscribers)
            if tally.count == tally.total:
                tally.done.set()
            barrier = await wait_all(subscribers, tally, "APPLICATION_SUBMITTED", application, 30)
            if len(barrier) < len(subscribers):
                print(
                    f"round {round_number}: {len(subscribers) - len(barrier)} subscribers missed the submission"
                )
            decision = "APPROVE" if round_number == args.rounds else "REJECT"
            tally.expect("APPLICATION_REVIEWED", application, len(subscribers))
            cpu_before = [cpu_seconds(server.process.pid) for server in servers] + [time.process_time()]
            sent = time.time()
            await api.review(regulator, application, decision, None if decision == "APPROVE" else REASON)
            received = await wait_all(subscribers, tally, "APPLICATION_REVIEWED", application, 30)
            cpu_after = [cpu_seconds(server.process.pid) for server in servers] + [time.process_time()]
            cpu_ms.append(
                [(after - before) * 1000 for before, after in zip(cpu_before, cpu_after, strict=True)]
            )
            assert len({at for _, at in received}) <= 1, "one event, one commit time"
            round_commit = [(t - at) * 1000 for t, at in received]
            round_mutation = [(t - sent) * 1000 for t, _ in received]
            commit_ms += round_commit
            mutation_ms += round_mutation
            print(
                f"{round_number:>5} {len(received):>5}/{len(subscribers):<4} "
                f"{summary(round_commit)}   {summary(round_mutation)}",
                flush=True,
            )
        total = args.rounds * len(subscribers)
        print(f"\nall rounds: {len(commit_ms)}/{total} deliveries")
        print(f"commit   -> delivery (ms): {summary(commit_ms)}")
        print(f"mutation -> delivery (ms): {summary(mutation_ms)}")
        per_process = [statistics.median(column) for column in zip(*cpu_ms, strict=True)]
        names = [f"api-{i}" for i in range(len(servers))] + ["client"]
        print(
            "CPU per review event (median of rounds, ms): "
            + ", ".join(f"{name} {ms:.0f}" for name, ms in zip(names, per_process, strict=True))
            + f"  ({args.subscribers // len(servers)} subscribers per API process)"
        )
        errors = [e for s in subscribers for e in s.errors]
        if errors:
            print(f"subscription errors: {errors[:3]} ({len(errors)} in all)")
    except BaseException:
        if deployment is not None:
            print(deployment.outputs()[-8000:], file=sys.stderr)
        raise
    finally:
        await asyncio.gather(*(s.close() for s in subscribers), return_exceptions=True)
        for client in apis:
            await client.aclose()
        if deployment is not None:
            deployment.close()
        if database_url is not None:
            await drop_pg_database(database_url)
        async with Redis.from_url(redis_url) as redis:
            await redis.flushdb()
        shutil.rmtree(var_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--apis", type=int, default=2, help="API processes (ccms serve --no-migrate)")
    args = parser.parse_args()
    print(header())
    try:
        import uvloop  # the client's own overhead is part of what it measures: keep it small
    except ImportError:
        asyncio.run(run(args))
    else:
        uvloop.run(run(args))


if __name__ == "__main__":
    main()
