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


async def test_on_postgresql_the_aggregates_have_covering_indexes_and_no_reference_foreign_keys(
    db: str,
) -> None:
    """Both are made by hand in migrations (Tortoise can declare neither), so check the result."""
    if db != "postgres":
        return  # SQLite has no INCLUDE and cannot drop a constraint: nothing to check there
    connection = Tortoise.get_connection("default")
    indexes = await connection.execute_query_dict(
        "SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE '%covering'"
    )
    assert {
        row["indexname"]: "INCLUDE (enterprise_id, amount, tce, emissions, missing_factors)"
        in row["indexdef"]
        for row in indexes
    } == {
        "energy_monthly_covering": True,
        "energy_yearly_covering": True,
    }
    keys = await connection.execute_query_dict(
        "SELECT conrelid::regclass::text AS tab, conname FROM pg_constraint WHERE contype = 'f'"
        " AND conrelid::regclass::text IN ('energy_records', 'energy_monthly', 'energy_yearly')"
    )
    assert [(k["tab"], k["conname"]) for k in keys] == [
        ("energy_records", "energy_records_enterprise_id_fkey")
    ]
