import os
import subprocess
import sys
from pathlib import Path

import pytest


def ccms(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environment["CCMS_VAR_DIR"] = str(tmp_path)
    return environment


def test_migrate_then_create_user_lets_an_operator_add_a_regulator(
    env: dict[str, str], tmp_path: Path
) -> None:
    assert ccms("migrate", env=env).returncode == 0
    created = ccms(
        "create-user",
        "gd-office",
        "--role",
        "REGULATOR",
        "--region-prefix",
        "44",
        "--password",
        "long-password",
        env=env,
    )
    assert created.returncode == 0, created.stderr
    assert (tmp_path / "ccms.sqlite3").exists()
    duplicate = ccms(
        "create-user", "gd-office", "--role", "REGULATOR", "--password", "long-password", env=env
    )
    assert duplicate.returncode != 0 and "DUPLICATE_USERNAME" in duplicate.stderr
    bad_scope = ccms(
        "create-user",
        "gz-office",
        "--role",
        "REGULATOR",
        "--region-prefix",
        "99",
        "--password",
        "long-password",
        env=env,
    )
    assert bad_scope.returncode != 0 and "INVALID_REGION_CODE" in bad_scope.stderr
