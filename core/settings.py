"""One typed settings object, read from the environment.

Every default is the embedded one: SQLite under ./var, no Redis, nothing to
install. Setting DATABASE_URL / REDIS_URL switches to the real parts.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

_TRUE = {"1", "true", "yes", "on"}


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None or value == "" else value.strip().lower() in _TRUE


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value is None or value == "" else int(value)


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
            session_check_seconds=max(
                1.0, float(os.environ.get("CCMS_SESSION_CHECK_SECONDS") or cls.session_check_seconds)
            ),
            verification_max_consecutive_years=max(
                0, _int("CCMS_VERIFICATION_MAX_CONSECUTIVE_YEARS", cls.verification_max_consecutive_years)
            ),
        )


class MissingSecretKey(RuntimeError):
    """The configuration has no key to sign session tokens and download links with."""


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
