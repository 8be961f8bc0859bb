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


OPERATIONS = (
    "CCMS_KEEPALIVE_SECONDS",
    "CCMS_LOG_FORMAT",
    "CCMS_LOG_LEVEL",
    "CCMS_WORKER_METRICS_PORT",
    "CCMS_SCHEDULER_METRICS_PORT",
    "CCMS_HEARTBEAT_SECONDS",
)


def test_operations_defaults_keep_pooled_connections_and_log_json(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in OPERATIONS:
        monkeypatch.delenv(name, raising=False)
    settings = Settings.from_env()
    assert settings.keepalive_seconds == 75  # above the 60 s idle of common client pools
    assert (settings.log_format, settings.log_level) == ("json", "INFO")
    assert (settings.worker_metrics_port, settings.scheduler_metrics_port) == (9101, 9102)
    assert settings.heartbeat_seconds == 10 and settings.heartbeat_ttl_seconds == 31


def test_operations_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in zip(OPERATIONS, ("120", "TEXT", "debug", "0", "9300", "0.2"), strict=True):
        monkeypatch.setenv(name, value)
    settings = Settings.from_env()
    assert settings.keepalive_seconds == 120
    assert (settings.log_format, settings.log_level) == ("text", "DEBUG")
    assert (settings.worker_metrics_port, settings.scheduler_metrics_port) == (0, 9300)
    assert settings.heartbeat_seconds == 1.0  # at least 1 s


def test_an_unknown_log_format_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCMS_LOG_FORMAT", "xml")
    with pytest.raises(ValueError, match="CCMS_LOG_FORMAT must be one of json, text, not 'xml'"):
        Settings.from_env()


def test_chinese_and_beijing_time_are_the_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("CCMS_LANGUAGE", "CCMS_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CCMS_VAR_DIR", str(tmp_path))
    settings = Settings.from_env()
    assert (settings.language, settings.timezone) == ("zh-CN", "Asia/Shanghai")


def test_the_language_and_the_zone_can_be_chosen(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CCMS_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CCMS_LANGUAGE", "en-GB")
    monkeypatch.setenv("CCMS_TIMEZONE", "Asia/Hong_Kong")
    settings = Settings.from_env()
    assert (settings.language, settings.timezone) == ("en", "Asia/Hong_Kong")


@pytest.mark.parametrize(
    ("name", "value"), [("CCMS_LANGUAGE", "fr"), ("CCMS_TIMEZONE", "Beijing"), ("CCMS_TIMEZONE", "../etc")]
)
def test_an_unknown_language_or_zone_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, value: str
) -> None:
    monkeypatch.setenv("CCMS_VAR_DIR", str(tmp_path))
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=name):
        Settings.from_env()
