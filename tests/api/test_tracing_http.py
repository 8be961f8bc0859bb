"""OpenTelemetry: with the OTEL_* variables set, each GraphQL operation is a span named after it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from api.app import create_app
from core.settings import Settings

_exporter = InMemorySpanExporter()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    # The global provider can be set once per process: this module's, shared by its tests.
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(_exporter))
        trace.set_tracer_provider(provider)
    _exporter.clear()
    yield _exporter
    _exporter.clear()


def test_tracing_follows_the_standard_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_SERVICE_NAME",
        "OTEL_TRACES_EXPORTER",
        "OTEL_SDK_DISABLED",
    ):
        monkeypatch.delenv(name, raising=False)
    assert not Settings.from_env().tracing
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317")
    assert Settings.from_env().tracing
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert not Settings.from_env().tracing


async def test_an_operation_is_a_span_named_after_it(
    settings: Settings, db: str, spans: InMemorySpanExporter
) -> None:
    app = create_app(replace(settings, tracing=True), manage_db=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ccms.test") as http:
        await http.post("/graphql", json={"query": "query WhoAmI { me { username } }"})
    names = [span.name for span in spans.get_finished_spans()]
    assert any("WhoAmI" in name for name in names), names


async def test_without_the_variables_nothing_is_traced(
    settings: Settings, db: str, spans: InMemorySpanExporter
) -> None:
    app = create_app(settings, manage_db=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ccms.test") as http:
        await http.post("/graphql", json={"query": "query WhoAmI { me { username } }"})
    assert spans.get_finished_spans() == ()
