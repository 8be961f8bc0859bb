"""The console's first routes stay within 500 KB of gzipped JavaScript, and ECharts is a chunk
of its own that no route loads before it draws a chart (bench/console_size.py measures)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from api.console import STATIC
from tests.backends import CI

BENCH = Path(__file__).resolve().parents[2] / "bench" / "console_size.py"


def bench() -> ModuleType:
    """bench/ is scripts, not a package: load the script as the module `console_size`."""
    if "console_size" not in sys.modules:
        spec = importlib.util.spec_from_file_location("console_size", BENCH)
        assert spec and spec.loader
        sys.modules["console_size"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules["console_size"])
    return sys.modules["console_size"]


@pytest.fixture
def chunks() -> dict:
    if not (STATIC / ".vite" / "manifest.json").exists():
        message = f"the console is not built in {STATIC} (make web)"
        if CI:
            pytest.fail(f"CI=true: {message}")
        pytest.skip(message)
    return bench().load()


def test_the_landing_routes_fit_the_budget(chunks: dict) -> None:
    size_of = bench()
    for route in size_of.LANDING.values():
        assert 50 * 1024 < size_of.route_size(chunks, route) <= size_of.BUDGET, route


def test_echarts_and_graphiql_load_with_no_route(chunks: dict) -> None:
    size_of = bench()
    charts = next(key for key in chunks if key.endswith("EChart.vue"))
    graphiql = next(key for key in chunks if key.endswith("graphiql.html"))
    for route in size_of.LANDING.values():
        loaded = size_of.closure(chunks, "index.html", route, "src/components/AppShell.vue")
        assert charts not in loaded and graphiql not in loaded
    # And the chart chunk really holds ECharts: the largest piece of the console.
    assert chunks[charts].gzipped > 100 * 1024
