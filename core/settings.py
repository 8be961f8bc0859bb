"""One typed settings object, read from the environment.

Every default is the embedded one: SQLite under ./var, no Redis, nothing to
install. Setting DATABASE_URL / REDIS_URL switches to the real parts.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.i18n.languages import ZH, Language, supported

_TRUE = {"1", "true", "yes", "on"}


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None or value == "" else value.strip().lower() in _TRUE


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value is None or value == "" else int(value)


def _choice(name: str, choices: tuple[str, ...], default: str) -> str:
    value = (os.environ.get(name) or default).strip().lower()
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


@dataclass(frozen=True)
class Settings:
    """Runtime configuration; see the README's configuration table."""

    var_dir: Path = Path("var")
    database_url: str = ""
    redis_url: str | None = None
    secret_key: str = ""
    token_ttl_seconds: int = 8 * 3600
    upload_dir: Path = Path("var/uploads")
    upload_max_bytes: int = 20 * 1024 * 1024
    graphql_body_max_bytes: int = 2 * 1024 * 1024
    # An .xlsx import is spooled whole before it is read (its index is at its end): cap it, and
    # what it unpacks to (a few KB of zip can unpack to gigabytes of sheet XML).
    xlsx_max_bytes: int = 100 * 1024 * 1024
    xlsx_max_unpacked_bytes: int = 2 * 1024 * 1024 * 1024
    host: str = "127.0.0.1"
    port: int = 8000
    debug: bool = False
    admin_username: str = "admin"
    admin_password: str | None = None
    demo: bool = True
    max_query_depth: int = 10
    max_aliases: int = 30
    max_tokens: int = 2000
    cors_origins: tuple[str, ...] = field(default_factory=tuple)
    sweep_interval_seconds: float = 60.0
    subscriber_queue_size: int = 256
    alarm_webhook_url: str | None = None
    alarm_webhook_secret: str = ""
    alarm_webhook_max_attempts: int = 8
    download_link_ttl_seconds: int = 60
    signin_backoff_after: int = 3
    signin_lockout_after: int = 10
    signin_lockout_seconds: int = 900
    signin_address_factor: int = 10
    password_hash_threads: int = 2
    session_check_seconds: float = 30.0
    worker_shutdown_seconds: float = 8.0
    # Above the idle time of common client pools (BI tools, load balancers keep 60 s), so a
    # pooled connection reused after a slow query is still open: uvicorn's own default is 5 s.
    keepalive_seconds: int = 75
    log_format: str = "json"  # or "text", for people at a terminal
    log_level: str = "INFO"
    # `ccms worker` and `ccms scheduler` serve /metrics and /health/live on a port of their own.
    worker_metrics_port: int = 9101
    scheduler_metrics_port: int = 9102
    # How often worker and scheduler write their heartbeat, and how late one may be before
    # /health/ready of the API counts that process as gone.
    heartbeat_seconds: float = 10.0
    # OpenTelemetry tracing of GraphQL operations, on when the standard OTEL_* variables say so.
    tracing: bool = False
    # Messages for readers whose Accept-Language (or WebSocket `language`) names neither language.
    language: Language = ZH
    # Times in messages, and every DateTime in the API, are in this zone's offset.
    timezone: str = "Asia/Shanghai"
    # How many consecutive years one body may verify the same enterprise before another must
    # (a rotation rule some provinces apply); 0 turns the rule off.
    verification_max_consecutive_years: int = 0

    @property
    def embedded(self) -> bool:
        """True on the default SQLite deployment (no DATABASE_URL given)."""
        return self.database_url.startswith("sqlite")

    def require_secret_key(self) -> None:
        """Refuse to run without a signing key. The embedded default keeps one under var/;
        with PostgreSQL, processes may run on several hosts and each would invent its own, so
        a token signed by one would be refused by the next: the key must be given."""
        if not self.secret_key:
            raise MissingSecretKey(
                "CCMS_SECRET_KEY is not set. With DATABASE_URL pointing at PostgreSQL every API, worker "
                "and scheduler process must share one signing key: set CCMS_SECRET_KEY to the same long "
                "random value for all of them (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)."
            )

    @classmethod
    def from_env(cls) -> Settings:
        var_dir = Path(os.environ.get("CCMS_VAR_DIR", "var"))
        database_url = database_url_from_env()
        embedded = database_url.startswith("sqlite")
        return cls(
            var_dir=var_dir,
            database_url=database_url,
            redis_url=os.environ.get("REDIS_URL") or None,
            secret_key=os.environ.get("CCMS_SECRET_KEY") or (_persistent_secret(var_dir) if embedded else ""),
            token_ttl_seconds=_int("CCMS_TOKEN_TTL_SECONDS", cls.token_ttl_seconds),
            upload_dir=Path(os.environ.get("CCMS_UPLOAD_DIR") or var_dir / "uploads"),
            upload_max_bytes=_int("CCMS_UPLOAD_MAX_BYTES", cls.upload_max_bytes),
            graphql_body_max_bytes=_int("CCMS_GRAPHQL_BODY_MAX_BYTES", cls.graphql_body_max_bytes),
            xlsx_max_bytes=_int("CCMS_XLSX_MAX_BYTES", cls.xlsx_max_bytes),
            xlsx_max_unpacked_bytes=_int("CCMS_XLSX_MAX_UNPACKED_BYTES", cls.xlsx_max_unpacked_bytes),
            host=os.environ.get("CCMS_HOST", cls.host),
            port=_int("CCMS_PORT", cls.port),
            debug=_bool("CCMS_DEBUG", False),
            admin_username=os.environ.get("CCMS_ADMIN_USERNAME", cls.admin_username),
            admin_password=os.environ.get("CCMS_ADMIN_PASSWORD") or None,
            demo=_bool("CCMS_DEMO", True),
            max_query_depth=_int("CCMS_MAX_QUERY_DEPTH", cls.max_query_depth),
            max_aliases=_int("CCMS_MAX_ALIASES", cls.max_aliases),
            max_tokens=_int("CCMS_MAX_TOKENS", cls.max_tokens),
            cors_origins=tuple(
                o.strip() for o in os.environ.get("CCMS_CORS_ORIGINS", "").split(",") if o.strip()
            ),
            # At least 1 s: the sweep is idempotent but not free.
            sweep_interval_seconds=max(1.0, float(os.environ.get("CCMS_SWEEP_INTERVAL_SECONDS") or 60)),
            subscriber_queue_size=_int("CCMS_SUBSCRIBER_QUEUE_SIZE", cls.subscriber_queue_size),
            alarm_webhook_url=os.environ.get("CCMS_ALARM_WEBHOOK_URL") or None,
            alarm_webhook_secret=os.environ.get("CCMS_ALARM_WEBHOOK_SECRET", ""),
            alarm_webhook_max_attempts=_int(
                "CCMS_ALARM_WEBHOOK_MAX_ATTEMPTS", cls.alarm_webhook_max_attempts
            ),
            download_link_ttl_seconds=_int("CCMS_DOWNLOAD_LINK_TTL_SECONDS", cls.download_link_ttl_seconds),
            signin_backoff_after=_int("CCMS_SIGNIN_BACKOFF_AFTER", cls.signin_backoff_after),
            signin_lockout_after=_int("CCMS_SIGNIN_LOCKOUT_AFTER", cls.signin_lockout_after),
            signin_lockout_seconds=_int("CCMS_SIGNIN_LOCKOUT_SECONDS", cls.signin_lockout_seconds),
            signin_address_factor=_int("CCMS_SIGNIN_ADDRESS_FACTOR", cls.signin_address_factor),
            password_hash_threads=_int("CCMS_PASSWORD_HASH_THREADS", cls.password_hash_threads),
            # At least 1 s: each check is a query per open WebSocket.
            worker_shutdown_seconds=float(
                os.environ.get("CCMS_WORKER_SHUTDOWN_SECONDS") or cls.worker_shutdown_seconds
            ),
            session_check_seconds=max(
                1.0, float(os.environ.get("CCMS_SESSION_CHECK_SECONDS") or cls.session_check_seconds)
            ),
            keepalive_seconds=_int("CCMS_KEEPALIVE_SECONDS", cls.keepalive_seconds),
            log_format=_choice("CCMS_LOG_FORMAT", ("json", "text"), cls.log_format),
            log_level=os.environ.get("CCMS_LOG_LEVEL", cls.log_level).upper() or cls.log_level,
            worker_metrics_port=_int("CCMS_WORKER_METRICS_PORT", cls.worker_metrics_port),
            scheduler_metrics_port=_int("CCMS_SCHEDULER_METRICS_PORT", cls.scheduler_metrics_port),
            tracing=_otel_configured(),
            # At least 1 s: each beat is a Redis write.
            heartbeat_seconds=max(
                1.0, float(os.environ.get("CCMS_HEARTBEAT_SECONDS") or cls.heartbeat_seconds)
            ),
            language=_language(os.environ.get("CCMS_LANGUAGE") or cls.language),
            timezone=_timezone(os.environ.get("CCMS_TIMEZONE") or cls.timezone),
            verification_max_consecutive_years=max(
                0, _int("CCMS_VERIFICATION_MAX_CONSECUTIVE_YEARS", cls.verification_max_consecutive_years)
            ),
        )

    @property
    def heartbeat_ttl_seconds(self) -> int:
        """A heartbeat older than three beats means the process is gone (or stuck)."""
        return int(self.heartbeat_seconds * 3) + 1


def _otel_configured() -> bool:
    """Tracing is on when an exporter or service name is configured the standard way (as
    `opentelemetry-instrument` reads them), unless OTEL_SDK_DISABLED says otherwise."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() in _TRUE:
        return False
    wanted = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SERVICE_NAME")
    exporter = os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    return any(os.environ.get(name) for name in wanted) or exporter not in ("", "none")


class MissingSecretKey(RuntimeError):
    """The configuration has no key to sign session tokens and download links with."""


def _language(value: str) -> Language:
    language = supported(value)
    if language is None:
        raise ValueError(f"CCMS_LANGUAGE={value!r}: use zh-CN or en")
    return language


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"CCMS_TIMEZONE={value!r} is not an IANA time zone, e.g. Asia/Shanghai") from None
    return value


def database_url_from_env() -> str:
    var_dir = Path(os.environ.get("CCMS_VAR_DIR", "var"))
    return os.environ.get("DATABASE_URL") or f"sqlite://{var_dir / 'ccms.sqlite3'}"


def _persistent_secret(var_dir: Path) -> str:
    """A signing key kept under var/ so tokens survive a restart of the embedded server.

    Production deployments set CCMS_SECRET_KEY; several processes must share it.
    """
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key
