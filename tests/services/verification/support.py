"""A three-party cycle driven step by step: a Guangdong power enterprise, its provincial
regulator, a verification body with one verifier, and a notice for 2025."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from models import (
    EnergyRecord,
    EnergySource,
    Enterprise,
    FindingSeverity,
    Notice,
    Verification,
    VerificationBody,
    VerificationConclusion,
    VerificationFinding,
    VerificationOpinion,
)
from services.access import Actor
from services.compliance.documents import FileStore
from services.verification import assignments, conclusions, reports
from tests.conftest import Upload, World, in_days
from tests.services.cycle import issue

REPORT = b"%PDF-1.7\nthe enterprise's 2025 emissions report\n"
CONCLUSION = b"%PDF-1.7\nconclusion report of the verification body\n"


@dataclass
class Three:
    world: World
    files: FileStore
    enterprise: Enterprise
    regulator: Actor
    member: Actor
    body: VerificationBody
    verifier: Actor
    notice: Notice
    verification: Verification | None = None

    @classmethod
    async def start(cls, world: World, files: FileStore, *, require_verification: bool = True) -> Three:
        enterprise = await world.enterprise("440113")
        regulator = await world.regulator("44")
        member = await world.member(enterprise)
        await world.allowance(regulator, enterprise, 1000)
        notice = await issue(regulator, files, enterprise, require_verification=require_verification)
        body = await world.body()
        verifier = await world.verifier(body)
        return cls(world, files, enterprise, regulator, member, body, verifier, notice)

    async def assign(self, body: VerificationBody | None = None, **overrides: Any) -> Verification:
        values: dict[str, Any] = {
            "enterprise_id": self.enterprise.id,
            "year": 2025,
            "body_id": (body or self.body).id,
            "due_at": in_days(60),
        }
        values.update(overrides)
        self.verification = await assignments.assign_verification(self.regulator, **values)
        return self.verification

    @property
    def vid(self) -> int:
        assert self.verification is not None
        return self.verification.id

    async def report(self, reported: int = 1100, data: bytes = REPORT) -> Verification:
        return await reports.submit_emission_report(
            self.member,
            self.files,
            verification_id=self.vid,
            reported_emissions=reported,
            document=Upload(data, "report.pdf"),
        )

    async def finding(self, text: str = "Meter 3 readings missing for March") -> VerificationFinding:
        return await reports.add_finding(
            self.verifier,
            verification_id=self.vid,
            severity=FindingSeverity.MAJOR,
            finding=text,
            suggestion="Install sub-metering on the boiler feed",
        )

    async def conclude(
        self,
        verified: int = 1080,
        *,
        actor: Actor | None = None,
        reason: str | None = None,
        data: bytes = CONCLUSION,
        opinion: VerificationOpinion = VerificationOpinion.UNQUALIFIED,
    ) -> VerificationConclusion:
        return await conclusions.issue_conclusion(
            actor or self.verifier,
            self.files,
            verification_id=self.vid,
            verified_emissions=verified,
            opinion=opinion,
            report=Upload(data, "conclusion.pdf"),
            correction_reason=reason,
        )

    async def concluded(self, verified: int = 1080) -> VerificationConclusion:
        """Assigned, reported and concluded in one go."""
        await self.assign()
        await self.report()
        return await self.conclude(verified)

    async def reload(self) -> Verification:
        assert self.verification is not None
        await self.verification.refresh_from_db()
        return self.verification


async def energy(enterprise: Enterprise, year: int, emissions: list[int | None]) -> None:
    """Monthly electricity records with these emissions (millionths of tCO2; None: no factor)."""
    for month, value in enumerate(emissions, start=1):
        await EnergyRecord.create(
            enterprise_id=enterprise.id,
            year=year,
            month=month,
            energy_type_id="ELECTRICITY",
            source=EnergySource.MANUAL,
            quantity="1",
            unit="MWh",
            amount=1_000_000,
            emissions=value,
        )
