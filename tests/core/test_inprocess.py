"""The embedded default's jobs: timers on the server's own loop that run the job after its
delay and log its failure, and a periodic sweep that outlives a failing sweep. Every wait is
bounded."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import pytest

from core import inprocess
from core.inprocess import InProcessJobs
from models import Alarm, AlarmKind
from services.live import sweep
from services.live.catalog import JOBS
from services.live.sweep import SweepResult
from tests.services.cycle import Cycle

WAIT = 5.0


@pytest.fixture
async def runner() -> AsyncIterator[InProcessJobs]:
    jobs = InProcessJobs(sweep_interval_seconds=0.01)
    yield jobs
    await asyncio.wait_for(jobs.stop(), WAIT)


@pytest.fixture
def probe(monkeypatch: pytest.MonkeyPatch) -> list[tuple[float, tuple[int, ...]]]:
    """A job named "probe" that records when it ran and with what."""
    runs: list[tuple[float, tuple[int, ...]]] = []

    async def run(*args: int) -> None:
        runs.append((time.monotonic(), args))

    monkeypatch.setitem(JOBS, "probe", run)
    return runs


async def settled(jobs: InProcessJobs) -> None:
    """Wait for the jobs dispatched so far to finish."""
    await asyncio.wait_for(asyncio.gather(*jobs.tasks), WAIT)


async def test_a_job_runs_once_after_its_delay(runner: InProcessJobs, probe: list) -> None:
    dispatched_at = time.monotonic()
    await runner.dispatch("probe", (7, 8), 0.05)
    assert probe == []  # not before its time

    await settled(runner)

    [(ran_at, args)] = probe
    assert args == (7, 8)
    assert ran_at - dispatched_at >= 0.05
    assert runner.tasks == set()  # a finished timer is forgotten


async def test_a_failing_job_is_logged_and_the_others_still_run(
    runner: InProcessJobs, probe: list, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def explode(*args: int) -> None:
        raise RuntimeError("database unavailable")

    monkeypatch.setitem(JOBS, "explode", explode)
    with caplog.at_level(logging.ERROR, logger="core.inprocess"):
        await runner.dispatch("explode", (1,), 0)
        await runner.dispatch("probe", (2,), 0)
        await settled(runner)

    assert [args for _, args in probe] == [(2,)]
    [record] = caplog.records
    assert "explode" in record.getMessage()
    assert record.exc_info and isinstance(record.exc_info[1], RuntimeError)


async def test_stopping_cancels_the_timers_still_waiting(runner: InProcessJobs, probe: list) -> None:
    await runner.dispatch("probe", (1,), 60)
    waiting = set(runner.tasks)

    await asyncio.wait_for(runner.stop(), WAIT)

    assert all(task.cancelled() for task in waiting)
    assert runner.tasks == set() and probe == []


async def test_a_real_job_runs_against_the_database(runner: InProcessJobs, cycle: Cycle) -> None:
    await cycle.set_times(ack_due_at=cycle.notice.issued_at)

    await runner.dispatch("check_acknowledgement", (cycle.notice.id,), 0)
    await settled(runner)

    assert await Alarm.filter(notice_id=cycle.notice.id, kind=AlarmKind.ACK_OVERDUE).count() == 1


@pytest.fixture
def flaky_sweep(monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """The sweep fails on its first and third runs; the event is set at the fifth."""
    calls = 0
    fifth = asyncio.Event()

    async def run() -> SweepResult:
        nonlocal calls
        calls += 1
        if calls == 5:
            fifth.set()
        if calls in (1, 3):
            raise ConnectionError("database restarting")
        return SweepResult(reminders=1)

    monkeypatch.setattr(sweep, "sweep", run)
    return fifth


async def test_the_periodic_sweep_repeats_and_survives_a_failing_sweep(
    runner: InProcessJobs, flaky_sweep: asyncio.Event, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="core.inprocess"):
        runner.start()
        await asyncio.wait_for(flaky_sweep.wait(), WAIT)
        await asyncio.wait_for(runner.stop(), WAIT)

    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(failures) == 2 and all("sweep failed" in r.getMessage() for r in failures)
    assert any("reminders=1" in r.getMessage() for r in caplog.records if r.levelno == logging.INFO)


async def test_the_embedded_sweep_runs_at_start_against_the_database(
    runner: InProcessJobs, cycle: Cycle
) -> None:
    """A check whose timer died with the previous process is redone by the first sweep."""
    await cycle.set_times(ack_due_at=cycle.notice.issued_at)

    runner.start()

    async def alarm_raised() -> None:
        while not await Alarm.filter(notice_id=cycle.notice.id).exists():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(alarm_raised(), WAIT)
    await asyncio.wait_for(runner.stop(), WAIT)
    assert await Alarm.filter(notice_id=cycle.notice.id).count() == 1


def test_the_runner_uses_the_one_job_table() -> None:
    assert inprocess.JOBS is JOBS
    assert set(JOBS) == {
        "check_acknowledgement",
        "mark_overdue",
        "deliver_webhook",
        "sweep",
        "refresh_aggregates",
        "recompute_emissions",
        "check_verification_overdue",
    }
