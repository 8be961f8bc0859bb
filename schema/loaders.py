"""Per-request DataLoaders. Each applies the caller's scope itself, so a nested field can
never fetch a row the caller could not fetch at the root."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader
from tortoise.expressions import Q
from tortoise.models import Model

from models import (
    Allowance,
    Application,
    AuditEvent,
    Document,
    EmissionFactor,
    Enterprise,
    Notice,
    Role,
    User,
    Verification,
    VerificationBody,
    VerificationConclusion,
    VerificationFinding,
)
from services.access import Actor, enterprise_scope, verification_scope
from services.compliance.documents import document_scope

M = TypeVar("M", bound=Model)


def by_id(model: type[M], scope: Q) -> DataLoader[int, M | None]:
    async def load(keys: Sequence[int]) -> list[M | None]:
        rows = {row.pk: row for row in await model.filter(scope, id__in=list(keys))}
        return [rows.get(key) for key in keys]  # key order, not database order

    return DataLoader(load_fn=load)


def grouped(model: type[M], key: str, scope: Q) -> DataLoader[int, list[M]]:
    async def load(keys: Sequence[int]) -> list[list[M]]:
        groups: dict[Any, list[M]] = defaultdict(list)
        for row in await model.filter(scope, **{f"{key}__in": list(keys)}).order_by("id"):
            groups[getattr(row, key)].append(row)
        return [groups[k] for k in keys]

    return DataLoader(load_fn=load)


class Loaders:
    """Named `<Thing>By<Key>`; created once per request for one actor."""

    def __init__(self, actor: Actor) -> None:
        via_enterprise = enterprise_scope(actor, "enterprise")
        self.enterprise_by_id = by_id(Enterprise, enterprise_scope(actor))
        self.notice_by_id = by_id(Notice, via_enterprise)
        self.document_by_id = by_id(Document, document_scope(actor))
        self.factor_by_id = by_id(EmissionFactor, Q())  # reference data: the same for everyone
        self.applications_by_notice_id = grouped(Application, "notice_id", via_enterprise)
        timeline_scope = enterprise_scope(actor, "notice__enterprise")
        if actor.role == Role.ENTERPRISE:
            # Alarms and their resolution notes are the regulators' business.
            timeline_scope &= ~Q(action__startswith="alarm.")
        self.events_by_notice_id = grouped(AuditEvent, "notice_id", timeline_scope)
        self.username_by_id = DataLoader(load_fn=_usernames)
        via_verification = verification_scope(actor, "verification")
        self.verification_by_id = by_id(Verification, verification_scope(actor))
        # Reached only through a visible verification (its assigned body, or what it concludes).
        self.body_by_id = by_id(VerificationBody, Q())
        self.verified_enterprise_by_id = by_id(Enterprise, Q())
        self.findings_by_verification_id = grouped(VerificationFinding, "verification_id", via_verification)
        self.conclusions_by_verification_id = grouped(
            VerificationConclusion, "verification_id", via_verification
        )
        self.conclusion_by_id = by_id(VerificationConclusion, via_verification)
        verification_timeline = via_verification
        if actor.role in (Role.ENTERPRISE, Role.VERIFIER):
            verification_timeline &= ~Q(action__startswith="alarm.")
        self.events_by_verification_id = grouped(AuditEvent, "verification_id", verification_timeline)
        self.conclusion_by_enterprise_year = DataLoader(load_fn=self._conclusions(via_verification))
        self.allowance_by_enterprise_year = DataLoader(load_fn=self._allowances(via_enterprise))

    @staticmethod
    def _conclusions(scope: Q) -> Any:
        """The standing (latest) conclusion of each (enterprise id, year), in scope."""

        async def load(keys: Sequence[tuple[int, int]]) -> list[VerificationConclusion | None]:
            rows = await VerificationConclusion.filter(
                scope,
                enterprise_id__in=list({k[0] for k in keys}),
                year__in=list({k[1] for k in keys}),
            ).order_by("sequence")
            index = {(row.enterprise_id, row.year): row for row in rows}  # the last one stands
            return [index.get(key) for key in keys]

        return load

    @staticmethod
    def _allowances(scope: Q) -> Any:
        async def load(keys: Sequence[tuple[int, int]]) -> list[Allowance | None]:
            rows = await Allowance.filter(
                scope,
                enterprise_id__in=list({k[0] for k in keys}),
                year__in=list({k[1] for k in keys}),
            )
            index = {(row.enterprise_id, row.year): row for row in rows}
            return [index.get(key) for key in keys]

        return load


async def _usernames(keys: Sequence[int]) -> list[str | None]:
    """Only the username of an actor in a timeline is shown, never the user record."""
    names = dict(await User.filter(id__in=list(keys)).values_list("id", "username"))
    return [names.get(key) for key in keys]
