"""Executing one subscription event once for all the subscribers that get the same answer.

graphql-core executes a subscription's selection set for every subscriber and every event.
With many clients following the same notice, each API process executed the same
`NoticeStatusChange` hundreds of times per event: about half of its CPU in the fan-out
benchmark (bench/subscriptions.py, docs/benchmarks.md), and the p99 delivery time with it.

Payloads whose every field depends on the event alone (`SHARED_PAYLOADS`: no resolver
reads the context, the viewer or the database) are executed once per distinct document,
operation and variables; the other subscribers reuse that result. Each subscriber still
decides for itself whether it may see the event (services.events.visible_to) before it
yields the payload, so sharing the execution shares nothing across scopes. Alarms and
messages are loaded per viewer and are executed per subscriber as before.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from graphql import ExecutionResult
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.live.types import NoticeStatusChange, Resync

SHARED_PAYLOADS = (NoticeStatusChange, Resync)
# Events in flight at once in one process; older entries are dropped (and simply recomputed).
RECENT_EVENTS = 64

T = TypeVar("T")


class _Recent:
    """A small identity-keyed LRU: id(key) -> (key, value), the key kept alive while cached so
    its id cannot be reused by another object."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[int, tuple[object, Any]] = OrderedDict()

    def get(self, key: object, build: Callable[[], T]) -> T:
        entry = self.entries.get(id(key))
        if entry is not None and entry[0] is key:
            return entry[1]
        value = build()
        self.entries[id(key)] = (key, value)
        if len(self.entries) > self.size:
            self.entries.popitem(last=False)
        return value


_payloads = _Recent(RECENT_EVENTS)
_results = _Recent(RECENT_EVENTS)


def payload_of(event: object, build: Callable[[Any], T]) -> T:
    """The payload for this event, built once and the same object for every local subscriber
    (the hub hands one Event object to all of them)."""
    built: dict[Callable[[Any], Any], Any] = _payloads.get(event, dict)
    if build not in built:
        built[build] = build(event)
    return built[build]


class _Executed:
    """Stands in for a per-event executor when the event's result is already known."""

    __slots__ = ("result",)

    def __init__(self, result: ExecutionResult) -> None:
        self.result = result

    def execute_operation(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        return self.result


_UNSET: Any = object()


class SharedEventExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """strawberry's execution context, sharing the execution of shareable subscription events."""

    _shared_key: Any = _UNSET

    def build_per_event_executor(self, payload: Any) -> Any:
        # A subscriber after the first: skip even copying the executor.
        if isinstance(payload, SHARED_PAYLOADS) and (key := self._sharing_key()) is not None:
            results: dict[Any, ExecutionResult] = _results.get(payload, dict)
            if (cached := results.get(key)) is not None:
                return _Executed(cached)
        return super().build_per_event_executor(payload)

    def execute_operation(self, *args: Any, **kwargs: Any) -> Any:
        payload = self.root_value
        key = self._sharing_key() if isinstance(payload, SHARED_PAYLOADS) else None
        if key is None:
            return super().execute_operation(*args, **kwargs)
        results: dict[Any, ExecutionResult] = _results.get(payload, dict)
        cached = results.get(key)
        if cached is not None:
            return cached
        result = super().execute_operation(*args, **kwargs)
        # Only complete, error-free results are shared (an awaitable one is not complete yet).
        if isinstance(result, ExecutionResult) and not result.errors:
            results[key] = result
        return result

    def _sharing_key(self) -> Any:
        """What besides the payload decides the result: the schema, the document, the
        operation and the variables (directives such as @include read them). Fixed for the
        life of a subscription, so computed once (per-event executors are copies of this
        executor and inherit it)."""
        if self._shared_key is _UNSET:
            self._shared_key = self._compute_sharing_key()
        return self._shared_key

    def _compute_sharing_key(self) -> tuple[int, str, str | None, object] | None:
        location = self.operation.loc
        if location is None:
            return None
        coerced = self.variable_values.coerced
        try:
            variables: object = tuple(sorted(coerced.items()))
            hash(variables)
        except TypeError:  # list or input object values
            try:
                variables = json.dumps(coerced, sort_keys=True, default=str)
            except (TypeError, ValueError):
                return None
        name = self.operation.name.value if self.operation.name else None
        return id(self.schema), location.source.body, name, variables
