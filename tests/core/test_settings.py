from pathlib import Path

import pytest

from core.settings import Settings


def test_the_default_is_embedded_sqlite_under_var(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DATABASE_URL", "REDIS_URL", "CCMS_SECRET_KEY", "CCMS_PORT", "CCMS_DEMO"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CCMS_VAR_DIR", str(tmp_path))
    settings = Settings.from_env()
    assert settings.database_url == f"sqlite://{tmp_path / 'ccms.sqlite3'}"
    assert settings.embedded and settings.redis_url is None and settings.demo
    assert settings.port == 8000
    assert settings.upload_max_bytes == 20 * 1024 * 1024


def test_the_generated_secret_survives_a_restart(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CCMS_SECRET_KEY", raising=False)
    monkeypatch.setenv("CCMS_VAR_DIR", str(tmp_path))
    first = Settings.from_env().secret_key
    assert len(first) >= 32
    assert Settings.from_env().secret_key == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_the_environment_switches_to_the_real_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://ccms@db:5432/ccms")
    monkeypatch.setenv("REDIS_URL", "redis://redis:6379/0")
    monkeypatch.setenv("CCMS_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("CCMS_PORT", "9001")
    monkeypatch.setenv("CCMS_DEMO", "0")
    monkeypatch.setenv("CCMS_CORS_ORIGINS", "https://a.example, https://b.example")
    settings = Settings.from_env()
    assert not settings.embedded
    assert (settings.redis_url, settings.secret_key, settings.port, settings.demo) == (
        "redis://redis:6379/0",
        "k" * 40,
        9001,
        False,
    )
    assert settings.cors_origins == ("https://a.example", "https://b.example")
