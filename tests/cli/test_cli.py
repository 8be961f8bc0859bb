import os
import subprocess
import sys
from pathlib import Path

import pytest


def ccms(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args], env=env, capture_output=True, text=True, timeout=60
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


def test_rebuild_aggregates_recomputes_them_from_the_records(env: dict[str, str], tmp_path: Path) -> None:
    """On the embedded database: two records written by hand and an aggregate that disagrees with them."""
    import sqlite3

    assert ccms("migrate", env=env).returncode == 0
    database = sqlite3.connect(tmp_path / "ccms.sqlite3")
    database.execute(
        "INSERT INTO enterprises (name, credit_code, region_code, industry_code, sector, created_at, updated_at)"
        " VALUES ('x', '91440113MA59X1K2XX', '440113', '4411', 'POWER', '2026-01-01', '2026-01-01')"
    )
    database.execute(
        "INSERT INTO energy_records (enterprise_id, year, month, day, energy_type_id, source, quantity, unit,"
        " amount, tce, emissions, factor_id, updated_at) VALUES (1, 2024, 5, 0, 'DIESEL', 'MANUAL', 2, 't',"
        " 2000000, 2914200, 6191820, NULL, '2026-01-01'), (1, 2024, 5, 6, 'DIESEL', 'IOT', 1, 't',"
        " 1000000, 1457100, 3095910, NULL, '2026-01-01')"
    )
    database.execute(
        "INSERT INTO energy_monthly (enterprise_id, year, month, energy_type_id, amount, tce, emissions, records,"
        " missing_factors, missing_tce) VALUES (1, 2024, 5, 'DIESEL', 1, 1, 1, 1, 0, 0)"
    )
    database.commit()
    rebuilt = ccms("rebuild-aggregates", env=env)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "Aggregates rebuilt: 1 monthly rows" in rebuilt.stdout
    assert database.execute("SELECT amount, tce, emissions, records FROM energy_monthly").fetchall() == [
        (3_000_000, 4_371_300, 9_287_730, 2)
    ]
    assert database.execute("SELECT year, amount FROM energy_yearly").fetchall() == [(2024, 3_000_000)]
    database.close()
