"""The /graphql endpoint follows the GraphQL over HTTP spec, as judged by graphql-http's own audit."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.graphql import GRAPHQL_RESPONSE, JSON, response_media_type
from tests.backends import CI
from tests.e2e.server import Server, serve

HERE = Path(__file__).parent


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        if CI:
            pytest.fail(f"CI=true but {name} is not installed: the graphql-http audit runs on Node.js")
        pytest.skip(f"{name} is not installed: the graphql-http audit runs on Node.js")
    return found


def _install_audit() -> None:
    """Install graphql-http from the committed package-lock.json on first use."""
    if (HERE / "node_modules" / "graphql-http" / "package.json").exists():
        return
    installed = subprocess.run(
        [_tool("npm"), "ci", "--no-audit", "--no-fund"], cwd=HERE, capture_output=True, text=True, timeout=300
    )
    assert installed.returncode == 0, f"npm ci failed:\n{installed.stdout}\n{installed.stderr}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(
        tmp_path_factory.mktemp("var"), {"CCMS_DEMO": "0", "CCMS_ADMIN_PASSWORD": "admin-password"}
    ) as running:
        yield running


def test_the_graphql_http_audit_finds_no_error_and_no_warning(server: Server) -> None:
    node = _tool("node")
    _install_audit()
    audit = subprocess.run(
        [node, "audit.mjs", f"{server.url}/graphql"], cwd=HERE, capture_output=True, text=True, timeout=120
    )
    assert audit.stdout.strip(), f"the audit printed nothing:\n{audit.stderr}"
    results = json.loads(audit.stdout)
    failed = [
        f"{r['status']}: {r['name']} ({r['reason']})" for r in results if r["status"] in ("error", "warn")
    ]
    assert failed == [], "\n".join(failed)
    assert len(results) > 50 and audit.returncode == 0, audit.stderr


def test_a_field_error_is_still_a_200_with_data_for_graphql_response_clients(server: Server) -> None:
    response = httpx.post(
        f"{server.url}/graphql", json={"query": "{ me { id } }"}, headers={"accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    body = response.json()
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_a_request_error_is_a_400_without_data_for_graphql_response_clients(server: Server) -> None:
    response = httpx.post(
        f"{server.url}/graphql", json={"query": "{ nope }"}, headers={"accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 400
    assert "data" not in response.json() and response.json()["errors"]


def test_json_clients_keep_status_200_and_null_data_on_request_errors(server: Server) -> None:
    response = httpx.post(f"{server.url}/graphql", json={"query": "{ nope }"}, headers={"accept": JSON})
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON
    assert response.json()["data"] is None


def test_expected_errors_leave_no_traceback_in_the_server_log(server: Server) -> None:
    response = httpx.post(f"{server.url}/graphql", json={"query": "{ me { id } }"})
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "Traceback" not in server.output() and "Authentication required" not in server.output()


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (None, JSON),
        ("*/*", JSON),
        ("application/json", JSON),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE};q=0.5", JSON),
        (f"{GRAPHQL_RESPONSE};q=0", JSON),
    ],
)
def test_the_response_media_type_follows_the_accept_header(accept: str | None, media_type: str) -> None:
    assert response_media_type(accept) == media_type
