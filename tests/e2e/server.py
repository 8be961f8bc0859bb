"""`ccms serve` as a real process on a free port, and a small GraphQL client for it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
# Settings a developer's shell may carry; the server under test gets only what the test passes.
_INHERITED_SETTINGS = ("CCMS_", "DATABASE_URL", "REDIS_URL")
# How long a started process may take to become ready: generous, because a busy machine (CI, or
# several engineers' suites on two cores) has taken over 30 s; a ready server ends the wait at once.
START_TIMEOUT = float(os.environ.get("CCMS_TEST_START_TIMEOUT") or 180)
LOGIN = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token errors { code } } }"


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        """Everything the process printed so far (stdout and stderr)."""
        return self.log.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serve(
    var_dir: Path, env: Mapping[str, str] | None = None, *, timeout: float = START_TIMEOUT
) -> Iterator[Server]:
    """Start `ccms serve` with CCMS_VAR_DIR=var_dir, yield once /health/ready answers, always stop it."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith(_INHERITED_SETTINGS)}
    environment |= {
        "CCMS_VAR_DIR": str(var_dir),
        "CCMS_HOST": "127.0.0.1",
        "CCMS_PORT": str(port),
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    var_dir.mkdir(parents=True, exist_ok=True)
    log = var_dir / f"serve-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*_ccms(), "serve"], cwd=REPO, env=environment, stdout=out, stderr=subprocess.STDOUT
        )
    server = Server(process, port, log)
    try:
        _wait_until_ready(server, timeout)
        yield server
    finally:
        _stop(process)


def _ccms() -> list[str]:
    script = Path(sys.executable).with_name("ccms")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from api.cli import main; main()"]


def _wait_until_ready(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"ccms serve exited with {server.process.returncode}:\n{server.output()}")
        try:
            if httpx.get(f"{server.url}/health/ready", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"ccms serve not ready after {timeout} s:\n{server.output()}")
        time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class GraphQLHTTP:
    """GraphQL over a real socket, with the caller's bearer token."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    def query(
        self, document: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict:
        response = self.http.post(
            "/graphql", json={"query": document, "variables": variables or {}}, headers=_auth(token)
        )
        return _data(response)

    def upload(
        self,
        document: str,
        variables: dict[str, Any],
        files: dict[str, tuple[str, bytes, str]],
        *,
        token: str,
    ) -> dict:
        """A GraphQL multipart request: `files` maps a variable path (e.g. "input.document") to a file."""
        keys = list(files)
        response = self.http.post(
            "/graphql",
            data={
                "operations": json.dumps({"query": document, "variables": variables}),
                "map": json.dumps({str(i): [f"variables.{key}"] for i, key in enumerate(keys)}),
            },
            files={str(i): files[key] for i, key in enumerate(keys)},
            headers=_auth(token),
        )
        return _data(response)

    def login(self, username: str, password: str) -> str:
        payload = self.query(LOGIN, {"u": username, "p": password})["login"]
        assert payload["errors"] == [] and payload["token"], payload
        return payload["token"]


def _auth(token: str | None) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"} if token else {}


def _data(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]
