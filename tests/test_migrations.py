from tortoise import Tortoise
from tortoise.migrations.autodetector import MigrationAutodetector

from api.db import tortoise_config


async def test_committed_migrations_match_the_models(db: str) -> None:
    """A model change without its migration would pass tests (which migrate) yet break upgrades."""
    apps_config = tortoise_config("sqlite://:memory:")["apps"]
    pending = await MigrationAutodetector(Tortoise.apps, apps_config).changes()
    assert [w.name for w in pending] == [], "run `.venv/bin/tortoise makemigrations` and commit the result"


async def test_the_suite_database_was_built_by_the_migrations(db: str) -> None:
    """The fixture migrates rather than generating schemas, so migrations are what the tests prove."""
    rows = await Tortoise.get_connection("default").execute_query_dict(
        "SELECT count(*) AS n FROM tortoise_migrations"
    )
    assert rows[0]["n"] >= 1
