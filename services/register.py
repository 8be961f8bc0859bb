"""The bulk enterprise register: enterprises (and their first accounts) from a file or a call.

One importer serves `importEnterprises` (at most 1,000 rows) and the streamed upload to
POST /import/enterprises.csv (CSV or .xlsx, any size), with the machinery every importer
shares (services/rows.py): per-row errors with their row numbers, one transaction, all or
nothing unless `partial`. A row is upserted on its credit code: a new code registers an
enterprise, a known one (in the caller's scope) takes the row's name, region, industry and
sector. Codes are validated as createEnterprise validates them.

Administrators register anywhere; a regulator only in its region: a row whose region is
outside it is PERMISSION_DENIED, and a credit code registered outside it is
DUPLICATE_CREDIT_CODE (the code is taken, and the enterprise is not the regulator's to change).

A row may name a `username`: a new enterprise user bound to that enterprise is created with
a one-time password, returned once in the result and never stored in clear, which the user
must replace at first sign-in (as after resetPassword). A username that already belongs to
that enterprise's user is left alone (re-importing a file creates nothing twice); one that
belongs to anyone else is DUPLICATE_USERNAME.

Writes are set-based: per batch one lookup of the codes, one of the usernames, one upsert,
one read of the ids, and one insert each for the accounts and the audit events.

CSV columns: credit_code,name,region_code,industry_code,sector[,username]
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tortoise import Tortoise

from models import AuditEvent, Enterprise, Role, Sector, User
from services.access import Actor, require_role, sees
from services.codes import validate_credit_code, validate_industry_code, validate_region_code
from services.errors import ErrorCode, ServiceError
from services.identity import passwords
from services.identity.users import check_username
from services.rows import ImportResult, RowImporter, Rows, numbered
from services.values import text

MAX_ROWS_PER_CALL = 1000
COLUMNS = ("credit_code", "name", "region_code", "industry_code", "sector")
OPTIONAL_COLUMNS = ("username",)
FIELDS = ("name", "region_code", "industry_code", "sector")


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    credit_code: str
    name: str
    region_code: str
    industry_code: str
    sector: Sector
    username: str | None


@dataclass(frozen=True)
class Account:
    """An enterprise user created by the import, with its one-time password (shown once)."""

    line: int
    credit_code: str
    username: str
    password: str


@dataclass
class RegisterResult:
    rows: ImportResult
    created: int = 0  # enterprises registered
    updated: int = 0  # enterprises whose data changed
    accounts: list[Account] = field(default_factory=list)


def _column(raw: dict[str, str], name: str) -> str:
    return (raw.get(name) or "").strip()


class EnterpriseImporter(RowImporter[_Row]):
    audit_action = "enterprises.imported"

    def __init__(self, actor: Actor, *, partial: bool = False) -> None:
        require_role(actor, Role.ADMIN, Role.REGULATOR)
        super().__init__(actor, partial=partial)
        self.register = RegisterResult(self.result)
        self.usernames: dict[str, int] = {}  # username -> the line that first named it

    def key(self, row: _Row) -> str:
        return row.credit_code

    def parse(self, line: int, raw: dict[str, str]) -> _Row:
        credit_code = validate_credit_code(_column(raw, "credit_code"), "credit_code")
        name = text(_column(raw, "name"), "name", max_length=200)
        region_code = validate_region_code(_column(raw, "region_code"), "region_code")
        industry_code = validate_industry_code(_column(raw, "industry_code"), "industry_code")
        try:
            sector = Sector(_column(raw, "sector").upper())
        except ValueError:
            raise ServiceError(
                ErrorCode.INVALID_SECTOR,
                "sector {sector} is not one of {sectors}",
                "sector",
                params={"sector": repr(_column(raw, "sector")), "sectors": ", ".join(Sector)},
            ) from None
        if self.actor.role == Role.REGULATOR and not region_code.startswith(self.actor.region_prefix):
            raise ServiceError(
                ErrorCode.PERMISSION_DENIED,
                "region {region} is outside your region {prefix}",
                "region_code",
                params={"region": region_code, "prefix": self.actor.region_prefix},
            )
        username = None
        if given := _column(raw, "username"):
            username = check_username(given)
            if (first := self.usernames.get(username)) is not None:
                raise ServiceError(
                    ErrorCode.DUPLICATE_USERNAME,
                    "{username} is already named on line {first}",
                    "username",
                    params={"username": repr(username), "first": first},
                )
            self.usernames[username] = line
        return _Row(line, credit_code, name, region_code, industry_code, sector, username)

    async def write(self, rows: list[_Row]) -> None:
        existing = {
            e["credit_code"]: e
            for e in await Enterprise.filter(credit_code__in=[r.credit_code for r in rows]).values(
                "id", "credit_code", *FIELDS
            )
        }
        good: list[_Row] = []
        for row in rows:
            known = existing.get(row.credit_code)
            if known is not None and not sees(self.actor, known["id"], known["region_code"]):
                self.reject(
                    row.line,
                    ErrorCode.DUPLICATE_CREDIT_CODE,
                    "credit_code",
                    f"an enterprise with credit code {row.credit_code} is registered outside your region",
                )
            else:
                good.append(row)
        good = await self._free_usernames(good, existing)
        if self.doomed or not good:
            return
        changed = [r for r in good if _changed(r, existing.get(r.credit_code))]
        now = datetime.now(UTC)
        ids = {code: e["id"] for code, e in existing.items()}
        if changed:
            written = await _upsert(
                changed, now, self.actor.region_prefix if self.actor.role == Role.REGULATOR else ""
            )
            for row in [r for r in changed if r.credit_code not in written]:  # moved out of scope meanwhile
                self.reject(
                    row.line, ErrorCode.DUPLICATE_CREDIT_CODE, "credit_code", "registered outside your region"
                )
                good.remove(row)
            changed = [r for r in changed if r.credit_code in written]
            ids |= written
        events = [
            _event(self.actor, now, r, ids[r.credit_code], existing.get(r.credit_code)) for r in changed
        ]
        self.register.created += sum(1 for r in changed if r.credit_code not in existing)
        self.register.updated += sum(1 for r in changed if r.credit_code in existing)
        events += await self._create_accounts(good, ids, now)
        await _insert_events(events)
        self.result.written += len(good)

    async def _free_usernames(self, rows: list[_Row], existing: dict[str, dict[str, Any]]) -> list[_Row]:
        """The rows whose username is free or already this enterprise's user; the others are
        DUPLICATE_USERNAME."""
        named = [r.username for r in rows if r.username]
        if not named:
            return rows
        taken = dict(await User.filter(username__in=named).values_list("username", "enterprise_id"))
        good = []
        for row in rows:
            if row.username in taken:
                known = existing.get(row.credit_code)
                if known is None or taken[row.username] != known["id"]:
                    self.reject(
                        row.line, ErrorCode.DUPLICATE_USERNAME, "username", f"{row.username!r} is taken"
                    )
                    continue
                row = _without_username(row)  # this enterprise's account already: nothing to do
            good.append(row)
        return good

    async def _create_accounts(
        self, rows: list[_Row], ids: dict[str, int], now: datetime
    ) -> list[AuditEvent]:
        wanted = [r for r in rows if r.username]
        if not wanted:
            return []
        secrets = [passwords.one_time_password() for _ in wanted]
        hashes = await asyncio.gather(*(passwords.hash_one_time(s) for s in secrets))
        await User.bulk_create(
            [
                User(
                    username=r.username,
                    password_hash=h,
                    role=Role.ENTERPRISE,
                    region_prefix="",
                    enterprise_id=ids[r.credit_code],
                    must_change_password=True,
                    password_changed_at=now,
                    created_at=now,
                )
                for r, h in zip(wanted, hashes, strict=True)
            ]
        )
        users = dict(
            await User.filter(username__in=[r.username for r in wanted]).values_list("username", "id")
        )
        self.register.accounts += [
            Account(r.line, r.credit_code, str(r.username), s) for r, s in zip(wanted, secrets, strict=True)
        ]
        return [
            _audit(
                self.actor,
                now,
                "user.created",
                "User",
                users[r.username],
                {
                    "username": r.username,
                    "role": Role.ENTERPRISE.value,
                    "enterpriseId": ids[r.credit_code],
                    "oneTimePassword": True,
                },
            )
            for r in wanted
        ]

    async def run(self, rows: Rows) -> ImportResult:
        result = await super().run(rows)
        if result.error_count and not self.partial:  # rolled back: nothing was created
            self.register.created = self.register.updated = 0
            self.register.accounts.clear()
        return result


# PostgreSQL: one statement a batch, from arrays (a set, not a row at a time), which also
# returns the ids and, by its WHERE, never updates an enterprise outside the caller's region
# even if one took the code between the lookup and the write.
UPSERT = """
INSERT INTO enterprises (credit_code, name, region_code, industry_code, sector, created_at, updated_at)
SELECT code, name, region, industry, sector, $6::timestamptz, $6::timestamptz
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS row(code, name, region, industry, sector)
ON CONFLICT (credit_code) DO UPDATE SET
    name = EXCLUDED.name, region_code = EXCLUDED.region_code, industry_code = EXCLUDED.industry_code,
    sector = EXCLUDED.sector, updated_at = EXCLUDED.updated_at
WHERE substr(enterprises.region_code, 1, length($7::text)) = $7::text
RETURNING credit_code, id
"""
EVENTS = """
INSERT INTO audit_events (at, actor_id, action, entity_type, entity_id, data)
SELECT at, actor, action, kind, entity, data::jsonb
FROM unnest($1::timestamptz[], $2::int[], $3::text[], $4::text[], $5::int[], $6::text[])
    AS event(at, actor, action, kind, entity, data)
"""


async def _upsert(rows: list[_Row], now: datetime, prefix: str) -> dict[str, int]:
    """Insert or update the rows' enterprises; their ids by credit code."""
    connection = Tortoise.get_connection("default")
    if connection.capabilities.dialect == "postgres":
        columns = [[str(getattr(r, c)) for r in rows] for c in ("credit_code", *FIELDS)]
        returned = await connection.execute_query_dict(UPSERT, [*columns, now, prefix])
        return {r["credit_code"]: r["id"] for r in returned}
    await Enterprise.bulk_create(
        [
            Enterprise(
                credit_code=r.credit_code,
                name=r.name,
                region_code=r.region_code,
                industry_code=r.industry_code,
                sector=r.sector,
                created_at=now,
                updated_at=now,
            )
            for r in rows
        ],
        on_conflict=["credit_code"],
        update_fields=[*FIELDS, "updated_at"],
    )  # SQLite has one writer: nobody can take a code between the lookup and this
    found = Enterprise.filter(credit_code__in=[r.credit_code for r in rows])
    return dict(await found.values_list("credit_code", "id"))


async def _insert_events(events: list[AuditEvent]) -> None:
    if not events:
        return
    connection = Tortoise.get_connection("default")
    if connection.capabilities.dialect != "postgres":
        await AuditEvent.bulk_create(events)
        return
    columns = [
        [e.at for e in events],
        [e.actor_id for e in events],
        [e.action for e in events],
        [e.entity_type for e in events],
        [e.entity_id for e in events],
        [json.dumps(e.data, ensure_ascii=False) for e in events],
    ]
    await connection.execute_query(EVENTS, columns)


def _changed(row: _Row, known: dict[str, Any] | None) -> bool:
    return known is None or any(str(getattr(row, f)) != str(known[f]) for f in FIELDS)


def _without_username(row: _Row) -> _Row:
    return _Row(row.line, row.credit_code, row.name, row.region_code, row.industry_code, row.sector, None)


def _audit(
    actor: Actor, now: datetime, action: str, kind: str, entity_id: int, data: dict[str, Any]
) -> AuditEvent:
    return AuditEvent(
        at=now, actor_id=actor.user_id, action=action, entity_type=kind, entity_id=entity_id, data=data
    )


def _event(
    actor: Actor, now: datetime, row: _Row, enterprise_id: int, known: dict[str, Any] | None
) -> AuditEvent:
    """As createEnterprise and updateEnterprise record them, marked as imported."""
    if known is None:
        return _audit(
            actor,
            now,
            "enterprise.created",
            "Enterprise",
            enterprise_id,
            {"creditCode": row.credit_code, "imported": True},
        )
    changes = [f for f in FIELDS if str(getattr(row, f)) != str(known[f])]
    return _audit(
        actor,
        now,
        "enterprise.updated",
        "Enterprise",
        enterprise_id,
        {
            "before": {f: str(known[f]) for f in changes},
            "after": {f: str(getattr(row, f)) for f in changes},
            "imported": True,
        },
    )


async def import_rows(actor: Actor, rows: list[dict[str, str]], *, partial: bool = False) -> RegisterResult:
    """The GraphQL path: rows numbered from 1 in the order given."""
    importer = EnterpriseImporter(actor, partial=partial)
    await importer.run(numbered(rows, MAX_ROWS_PER_CALL))
    return importer.register


async def import_table(actor: Actor, rows: Rows, *, partial: bool = False) -> RegisterResult:
    """The upload path: rows of a CSV or .xlsx file (services/tables), with their row numbers."""
    importer = EnterpriseImporter(actor, partial=partial)
    await importer.run(rows)
    return importer.register
