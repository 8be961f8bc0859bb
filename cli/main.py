"""The `ccms` command: serve, migrate, the account verbs (create-user, list-users, deactivate-user,
reactivate-user, reset-password, update-user), worker, scheduler, rebuild-aggregates, probe."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import os
import signal
import sys

from core import db, logs
from core.settings import MissingSecretKey, Settings
from models import Role

# The processes that sign or check tokens, or share a deployment with those that do.
NEEDS_SECRET_KEY = ("serve", "worker", "scheduler")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="ccms", description="Carbon compliance management system")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="migrate, seed an empty database, and serve the API")
    serve.add_argument(
        "--workers", type=int, default=1, help="API processes (several need REDIS_URL to share subscriptions)"
    )
    serve.add_argument(
        "--no-migrate",
        action="store_true",
        help="skip migrations (when several replicas start together, run `ccms migrate` once first)",
    )
    commands.add_parser("migrate", help="apply database migrations")
    create = commands.add_parser("create-user", help="create a user without signing in")
    create.add_argument("username")
    create.add_argument("--role", choices=[r.value for r in Role], required=True)
    create.add_argument("--region-prefix", default="")
    create.add_argument("--enterprise-id", type=int)
    create.add_argument("--password", help="read from the terminal when omitted")
    _account_verbs(commands)
    worker = commands.add_parser("worker", help="run the dramatiq job workers (needs REDIS_URL)")
    worker.add_argument("--processes", type=int, default=1)
    worker.add_argument("--threads", type=int, default=8)
    commands.add_parser("scheduler", help="run the periodic sweep (alarms, deadlines, reminders)")
    probe = commands.add_parser(
        "probe", help="exit 0 when this host's CCMS process answers its health check (HEALTHCHECK)"
    )
    probe.add_argument("--port", type=int, help="default CCMS_PORT (ccms serve); 9101 worker, 9102 scheduler")
    probe.add_argument("--path", default="/health/live", help="/health/live (default) or /health/ready")
    commands.add_parser(
        "rebuild-aggregates", help="recompute every monthly and yearly energy aggregate from the records"
    )
    args = parser.parse_args(argv)
    if args.command == "probe":  # before reading every setting: a health check must be cheap
        sys.exit(_probe(args.port or int(os.environ.get("CCMS_PORT") or 8000), args.path))
    settings = Settings.from_env()
    if args.command in NEEDS_SECRET_KEY:
        try:
            settings.require_secret_key()
        except MissingSecretKey as error:
            sys.exit(f"ccms {args.command}: {error}")

    if args.command in ACCOUNT_VERBS:
        _account(settings, args)
    elif args.command == "migrate":
        asyncio.run(db.migrate(settings.database_url))
        print("Migrations applied.")
    elif args.command == "create-user":
        _create_user(settings, args)
    elif args.command == "serve":
        _serve(settings, args.workers, migrate=not args.no_migrate)
    elif args.command == "worker":
        _worker(settings, args.processes, args.threads)
    elif args.command == "scheduler":
        _scheduler(settings)
    elif args.command == "rebuild-aggregates":
        print(f"Aggregates rebuilt: {asyncio.run(_rebuild_aggregates(settings))} monthly rows.")


def _serve(settings: Settings, workers: int, *, migrate: bool = True) -> None:
    from services.bootstrap import bootstrap

    async def prepare() -> list[str]:
        if migrate:
            await db.migrate(settings.database_url)
        await db.init_db(settings.database_url)
        try:
            return await bootstrap(
                settings.admin_username, settings.admin_password, demo=settings.demo and settings.embedded
            )
        finally:
            await db.close_db()

    from services.errors import ServiceError

    try:
        lines = asyncio.run(prepare())
    except ServiceError as error:  # e.g. a CCMS_ADMIN_PASSWORD the password policy refuses
        sys.exit(f"ccms serve: the admin account could not be created: {error.code}: {error.message}")
    for line in lines:
        print(line, flush=True)
    print(f"CCMS on http://{settings.host}:{settings.port}/graphql", flush=True)
    if workers > 1:
        # Each uvicorn process counts for itself; a scrape of /metrics, answered by any one of
        # them, adds up the figures they all write here.
        metrics_dir = settings.var_dir / "prometheus" / f"serve-{settings.port}"
        from core.metrics import prepare_multiprocess

        prepare_multiprocess(str(metrics_dir))
    run_uvicorn("api.main:app", settings, workers)


def run_uvicorn(app: str, settings: Settings, workers: int = 1) -> None:
    """How `ccms serve` runs uvicorn; bench/overhead.py serves its bare endpoint the same way."""
    import uvicorn

    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_config=logs.uvicorn_log_config(settings),
        log_level=settings.log_level.lower(),
        # api/observe.py logs every request once, with its id, user, operation and duration.
        access_log=False,
        timeout_keep_alive=settings.keepalive_seconds,
        proxy_headers=True,
        # Events are small JSON frames sent to many subscribers at once: compressing each one
        # per connection cost 15-25 ms of CPU per event for 500 subscribers (docs/benchmarks.md).
        ws_per_message_deflate=False,
    )


def _probe(port: int, path: str) -> int:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=4) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as error:
        print(f"ccms probe: {path} on port {port}: {error}", file=sys.stderr)
        return 1


def _create_user(settings: Settings, args: argparse.Namespace) -> None:
    from services.errors import ServiceError
    from services.identity.users import create_user

    password = args.password or getpass.getpass("Password: ")

    async def run() -> None:
        await db.migrate(settings.database_url)  # idempotent; an operator may run this first
        await db.init_db(settings.database_url)
        try:
            await create_user(
                None,
                username=args.username,
                password=password,
                role=Role(args.role),
                region_prefix=args.region_prefix,
                enterprise_id=args.enterprise_id,
            )
        finally:
            await db.close_db()

    try:
        asyncio.run(run())
    except ServiceError as error:
        sys.exit(f"{error.code}: {error.message}")
    print(f"Created {args.role.lower()} {args.username!r}.")


ACCOUNT_VERBS = ("list-users", "deactivate-user", "reactivate-user", "reset-password", "update-user")


def _account_verbs(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The account lifecycle for an operator at the server, with no account of their own (an
    administrator who locked themselves out, say). Every change is audited with no actor."""
    listing = commands.add_parser("list-users", help="list accounts (username, role, scope, state)")
    listing.add_argument("--role", choices=[r.value for r in Role])
    listing.add_argument("--region-prefix", help="regulators under it and users of enterprises in it")
    listing.add_argument("--inactive", action="store_true", help="only deactivated accounts")
    for verb, text in (
        ("deactivate-user", "stop an account from signing in and end its sessions"),
        ("reactivate-user", "let a deactivated account sign in again"),
        ("reset-password", "give an account a one-time password it must change at the next sign-in"),
    ):
        commands.add_parser(verb, help=text).add_argument("username")
    update = commands.add_parser("update-user", help="set an account's role and scope (ends its sessions)")
    update.add_argument("username")
    update.add_argument("--role", choices=[r.value for r in Role], required=True)
    update.add_argument("--region-prefix", default="")
    update.add_argument("--enterprise-id", type=int)


def _account(settings: Settings, args: argparse.Namespace) -> None:
    from services.errors import ServiceError
    from services.identity import accounts, directory
    from services.identity.users import by_username

    async def run() -> list[str]:
        await db.init_db(settings.database_url)
        try:
            if args.command == "list-users":
                where = directory.UserFilter(
                    role=Role(args.role) if args.role else None,
                    region_prefix=args.region_prefix,
                    is_active=False if args.inactive else None,
                )
                users = await directory.users_for_operator(where).select_related("enterprise").order_by("id")
                return [
                    f"{u.username}\t{u.role.value}\t"
                    f"{u.enterprise.name if u.enterprise else u.region_prefix or '-'}\t"
                    f"{'active' if u.is_active else 'inactive'}"
                    + ("\tmust change password" if u.must_change_password else "")
                    for u in users
                ]
            user = await by_username(args.username)
            if args.command == "deactivate-user":
                await accounts.deactivate_user(None, user.id)
                return [f"Deactivated {user.username!r}: its sessions have ended."]
            if args.command == "reactivate-user":
                await accounts.reactivate_user(None, user.id)
                return [f"Reactivated {user.username!r}."]
            if args.command == "reset-password":
                _, password = await accounts.reset_password(None, user.id)
                return [
                    f"One-time password for {user.username!r} (shown once; it must be changed at the next "
                    f"sign-in): {password}"
                ]
            await accounts.update_user(
                None,
                user.id,
                role=Role(args.role),
                region_prefix=args.region_prefix,
                enterprise_id=args.enterprise_id,
            )
            return [f"Updated {user.username!r}: {args.role.lower()}, its sessions have ended."]
        finally:
            await db.close_db()

    try:
        lines = asyncio.run(run())
    except ServiceError as error:
        sys.exit(f"{error.code}: {error.message}")
    for line in lines:
        print(line)


def _worker(settings: Settings, processes: int, threads: int) -> None:
    if not settings.redis_url:
        sys.exit("ccms worker needs REDIS_URL; the embedded default runs its jobs inside `ccms serve`.")
    import atexit
    import shutil
    import tempfile

    from dramatiq.cli import main as dramatiq_main

    # dramatiq forks the worker processes and the metrics server (workers/middleware.py) from
    # this one: they inherit the multiprocess directory, which must be set before any of them
    # imports prometheus_client.
    metrics_dir = tempfile.mkdtemp(prefix="ccms-worker-metrics-")
    atexit.register(shutil.rmtree, metrics_dir, ignore_errors=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    logs.configure(settings)
    # Our format instead of dramatiq's: each worker process installs it at boot (workers/middleware.py).
    sys.argv = [
        "dramatiq",
        "workers.actors",
        "--processes",
        str(processes),
        "--threads",
        str(threads),
        # Jobs are idempotent and their messages are redelivered: a stop need not wait for them
        # (dramatiq's default is 10 minutes, far past any supervisor's patience).
        "--worker-shutdown-timeout",
        str(int(settings.worker_shutdown_seconds * 1000)),
        "--skip-logging",
    ]
    sys.exit(dramatiq_main())


def _scheduler(settings: Settings) -> None:
    """Sweep every CCMS_SWEEP_INTERVAL_SECONDS. Two schedulers by mistake are harmless:
    every sweep step is idempotent."""
    from core import heartbeat, metrics, runtime
    from core.broker import queue_depth
    from core.inprocess import periodic_sweep

    logs.configure(settings)
    log = logging.getLogger("ccms.scheduler")

    async def run() -> None:
        await runtime.start(settings, listen=False)
        beating = asyncio.create_task(heartbeat.run(settings, "scheduler")) if settings.redis_url else None
        sweeping = asyncio.create_task(periodic_sweep(settings.sweep_interval_seconds))
        # SIGTERM (to the process group, from systemd or `docker stop`) ends the sweep and closes
        # the database and Redis cleanly instead of killing the process mid-sweep.
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, sweeping.cancel)
        try:
            if settings.scheduler_metrics_port:
                depth = [metrics.QueueDepth(queue_depth(settings.redis_url))] if settings.redis_url else []
                metrics.serve(settings.host, settings.scheduler_metrics_port, depth)
            log.info(
                f"Sweeping every {settings.sweep_interval_seconds:g} s",
                extra={"metrics_port": settings.scheduler_metrics_port},
            )
            with contextlib.suppress(asyncio.CancelledError):
                await sweeping
        finally:
            if beating is not None:
                beating.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await beating
            await runtime.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


async def _rebuild_aggregates(settings: Settings) -> int:
    from models import EnergyMonthly
    from services.energy import aggregates

    await db.init_db(settings.database_url)
    try:
        await aggregates.rebuild()
        await aggregates.vacuum()
        return await EnergyMonthly.all().count()
    finally:
        await db.close_db()


if __name__ == "__main__":
    main()
