"""Response types of the audit's recomputation of a campaign's review outcomes."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from aggregates.audit_findings import Decision, Difference, Recomputation
from api.audit.words import role_name
from api.platform.schemas import Response, in_zone
from tenants.runtime import TenantRuntime


class RoundCheckOut(Response, kw_only=True, frozen=True):
    code: str
    name_zh: str
    kind: str
    rule: str
    sheets: int
    """Score sheets whose totals and criteria were checked, corrected ones included."""
    counted_sheets: int
    """The sheets that count (each reviewer's latest per submission) at the last aggregation."""
    results: int
    """Submissions whose stage score was recomputed."""


class GradingCheckOut(Response, kw_only=True, frozen=True):
    entries: int
    """Results ranked and graded again."""
    decisions: int
    published: bool
    certificates: int
    """Certificates issued at publication, each checked against the grade."""


class DecisionOut(Response, kw_only=True, frozen=True):
    """A recorded human decision (an override, an upheld objection changing a grade): part of the
    path to the published grades, shown rather than recomputed."""

    kind: str
    submission_id: str
    serial: str
    previous: str | None
    previous_name: str | None
    grade: str | None
    grade_name: str | None
    reason: str
    actor_id: str
    actor_role: str
    actor_role_name: str
    at: datetime
    """When it was recorded (Beijing time)."""
    version: int
    """The grading's version that recorded it (see the grading's history)."""
    what: str

    @classmethod
    def of(cls, decision: Decision, names: dict[str, str], runtime: TenantRuntime) -> DecisionOut:
        role = decision.actor_role
        return cls(
            kind=decision.kind,
            submission_id=decision.submission_id,
            serial=decision.serial,
            previous=decision.previous,
            previous_name=names.get(decision.previous or "", decision.previous),
            grade=decision.grade,
            grade_name=names.get(decision.grade or "", decision.grade),
            reason=decision.reason,
            actor_id=decision.actor_id,
            actor_role=role,
            actor_role_name=role_name(role) or role,
            at=in_zone(decision.at, runtime.tenant.zone),
            version=decision.version,
            what=decision.what_zh,
        )


class DifferenceOut(Response, kw_only=True, frozen=True):
    stage: str
    """round, grading or publication."""
    round_code: str | None
    submission_id: str
    serial: str
    sheet_id: str | None
    item: str
    """What differs: sheet_total, criteria, score, counted, excluded, rule (a round); entry,
    material, presentation, combined, rank, grade (grading); published_grade, certificate."""
    recorded: str | None
    """As recorded or published (grades by code, sheet ids joined by 、)."""
    recomputed: str | None
    what: str
    """The difference in a sentence (Chinese)."""

    @classmethod
    def of(cls, difference: Difference) -> DifferenceOut:
        return cls(
            stage=difference.stage,
            round_code=difference.round_code,
            submission_id=difference.submission_id,
            serial=difference.serial,
            sheet_id=difference.sheet_id,
            item=difference.item,
            recorded=difference.recorded,
            recomputed=difference.recomputed,
            what=difference.what_zh,
        )


class RecomputationOut(Response, kw_only=True, frozen=True):
    campaign_id: UUID
    intact: bool
    """Nothing differs: every recorded score, rank and grade, and every published grade and
    certificate, is what the recorded sheets, the rules and the recorded decisions give."""
    rounds: list[RoundCheckOut]
    grading: GradingCheckOut | None
    """Null while the campaign is not graded."""
    decisions: list[DecisionOut]
    differences: list[DifferenceOut]

    @classmethod
    def of(
        cls,
        campaign_id: UUID,
        found: Recomputation,
        names: dict[str, str],
        runtime: TenantRuntime,
    ) -> RecomputationOut:
        grading = found.grading
        return cls(
            campaign_id=campaign_id,
            intact=found.intact,
            rounds=[
                RoundCheckOut(
                    code=r.code,
                    name_zh=r.name_zh,
                    kind=r.kind,
                    rule=r.rule,
                    sheets=r.sheets,
                    counted_sheets=r.counted_sheets,
                    results=r.results,
                )
                for r in found.rounds
            ],
            grading=None
            if grading is None
            else GradingCheckOut(
                entries=grading.entries,
                decisions=grading.decisions,
                published=grading.published,
                certificates=grading.certificates,
            ),
            decisions=[DecisionOut.of(d, names, runtime) for d in found.decisions],
            differences=[DifferenceOut.of(d) for d in found.differences],
        )
