"""One dramatiq actor per job of the catalogue, of the same name, taking the same ids and
calling the same service function; with retries, and a time limit that is longer for the long
jobs. tests/workers/test_worker.py runs them through a worker."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from typing import Any

import pytest

from core.broker import QUEUE
from services.live.catalog import JOBS, LONG_JOBS
from workers import actors


def actor_function(name: str) -> Callable[..., Any]:
    """The async function an actor was declared with (dramatiq wraps it to run on its loop)."""
    return inspect.unwrap(actors.broker.get_actor(name).fn)


def parameters(function: Callable[..., Any]) -> list[tuple[str, Any, Any, Any]]:
    return [
        (p.name, p.kind, p.default, p.annotation) for p in inspect.signature(function).parameters.values()
    ]


def test_every_job_has_an_actor_of_the_same_name_and_every_actor_a_job() -> None:
    assert actors.broker.get_declared_actors() == set(JOBS)
    for name in JOBS:
        assert getattr(actors, name) is actors.broker.get_actor(name)  # declared by that name, searchable
        assert actor_function(name).__name__ == name


@pytest.mark.parametrize("name", sorted(JOBS))
def test_an_actor_takes_the_ids_its_service_function_takes(name: str) -> None:
    assert parameters(actor_function(name)) == parameters(JOBS[name])


@pytest.mark.parametrize("name", sorted(JOBS))
async def test_an_actor_calls_the_service_function_of_its_job_with_its_ids(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = JOBS[name]
    calls: list[tuple[int, ...]] = []

    async def record(*ids: int) -> None:
        calls.append(ids)

    monkeypatch.setattr(sys.modules[service.__module__], service.__name__, record)
    ids = tuple(range(101, 101 + len(inspect.signature(service).parameters)))

    await actor_function(name)(*ids)

    assert calls == [ids]


@pytest.mark.parametrize("name", sorted(JOBS))
def test_an_actor_retries_with_backoff_within_a_time_limit_longer_for_long_jobs(name: str) -> None:
    actor = actors.broker.get_actor(name)
    assert actor.queue_name == QUEUE  # where the dispatcher sends every job
    assert actor.options == {
        "max_retries": 5,
        "min_backoff": 1_000,
        "max_backoff": 60_000,
        "time_limit": 3_600_000 if name in LONG_JOBS else 120_000,
    }
