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
    # The month's one value: MANUAL's monthly 2 t, which ranks above the meter's day (1 t).
    assert database.execute("SELECT amount, tce, emissions, records FROM energy_monthly").fetchall() == [
        (2_000_000, 2_914_200, 6_191_820, 1)
    ]
    assert database.execute("SELECT year, amount FROM energy_yearly").fetchall() == [(2024, 2_000_000)]
    database.close()


def test_the_account_verbs_manage_an_account_without_signing_in(env: dict[str, str], tmp_path: Path) -> None:
    import sqlite3

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
    database = sqlite3.connect(tmp_path / "ccms.sqlite3")

    def state() -> tuple[int, int, int, str]:
        row = database.execute(
            "SELECT is_active, session_version, must_change_password, region_prefix FROM users WHERE username = 'gd-office'"
        ).fetchone()
        return tuple(row)  # type: ignore[return-value]

    assert state() == (1, 0, 0, "44")
    deactivated = ccms("deactivate-user", "gd-office", env=env)
    assert deactivated.returncode == 0 and "Deactivated 'gd-office'" in deactivated.stdout
    assert state() == (0, 1, 0, "44")
    assert ccms("list-users", "--inactive", env=env).stdout == "gd-office\tREGULATOR\t44\tinactive\n"
    again = ccms("deactivate-user", "gd-office", env=env)
    assert again.returncode != 0 and "USER_ALREADY_INACTIVE" in again.stderr
    assert ccms("reactivate-user", "gd-office", env=env).returncode == 0
    reset = ccms("reset-password", "gd-office", env=env)
    assert reset.returncode == 0 and "One-time password for 'gd-office'" in reset.stdout
    one_time = reset.stdout.rsplit(": ", 1)[1].strip()
    assert len(one_time) == 19 and state() == (1, 3, 1, "44")
    moved = ccms("update-user", "gd-office", "--role", "REGULATOR", "--region-prefix", "11", env=env)
    assert moved.returncode == 0, moved.stderr
    assert state()[1:] == (4, 1, "11")
    missing = ccms("reset-password", "nobody", env=env)
    assert missing.returncode != 0 and "NOT_FOUND" in missing.stderr
    events = [
        r[0] for r in database.execute("SELECT action FROM audit_events WHERE actor_id IS NULL ORDER BY id")
    ]
    assert events == [
        "user.created",
        "user.deactivated",
        "user.reactivated",
        "user.password_reset",
        "user.updated",
    ]
    database.close()


@pytest.mark.parametrize("command", ["serve", "worker", "scheduler"])
def test_with_postgresql_and_no_secret_key_the_processes_refuse_to_start(
    env: dict[str, str], command: str
) -> None:
    # Nothing needs to answer at this URL: the check comes before any connection.
    environment = {k: v for k, v in env.items() if k != "CCMS_SECRET_KEY"}
    environment |= {"DATABASE_URL": "postgres://ccms@127.0.0.1:1/ccms", "REDIS_URL": "redis://127.0.0.1:1/0"}
    refused = ccms(command, env=environment)
    assert refused.returncode != 0
    assert "CCMS_SECRET_KEY is not set" in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr


def test_the_embedded_default_keeps_its_own_key(env: dict[str, str], tmp_path: Path) -> None:
    from core.settings import Settings

    environment = {k: v for k, v in env.items() if k != "CCMS_SECRET_KEY"}
    old = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(environment)
        settings = Settings.from_env()
    finally:
        os.environ.clear()
        os.environ.update(old)
    assert settings.secret_key and (tmp_path / "secret_key").read_text().strip() == settings.secret_key
    settings.require_secret_key()  # nothing to refuse


def test_serve_says_why_when_the_admin_password_is_too_weak(env: dict[str, str]) -> None:
    refused = ccms("serve", env={**env, "CCMS_ADMIN_PASSWORD": "short", "CCMS_DEMO": "0", "CCMS_PORT": "1"})
    assert refused.returncode != 0
    assert "the admin account could not be created: WEAK_PASSWORD" in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr
