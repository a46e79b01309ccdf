"""Response types of the audit: a record's history and state, the recomputation of a campaign's review
outcomes, the chain check and its checkpoints, the audit package, an auditor's read trail."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import msgspec

from aggregates.audit_findings import Decision, Difference, Recomputation
from aggregates.ledger.audit import Step
from api.audit.words import event_words, role_name
from api.platform.schemas import Response, in_zone
from tenants.chain import Checkpoint
from tenants.chain_verify import Break
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


class CheckpointOut(Response, kw_only=True, frozen=True):
    position: int
    """The place in the tenant's log."""
    link: str
    """The chain's link there (hex); keep `position:link` to check the log against later."""
    made_at: datetime
    how: str
    """interval (every 1000 places), requested, or adopted (chain started over an older log)."""

    @classmethod
    def of(cls, c: Checkpoint, runtime: TenantRuntime) -> CheckpointOut:
        return cls(
            position=c.position,
            link=c.link,
            made_at=in_zone(c.made_at, runtime.tenant.zone),
            how=c.how,
        )


class BreakOut(Response, kw_only=True, frozen=True):
    position: int
    kind: str
    """changed, deleted, inserted (events), checkpoint or expected (the chain rewritten)."""
    what: str
    originator_id: str | None
    version: int | None
    topic: str | None

    @classmethod
    def of(cls, b: Break) -> BreakOut:
        return cls(
            position=b.position,
            kind=b.kind,
            what=b.what,
            originator_id=b.originator_id,
            version=b.version,
            topic=b.topic,
        )


class ChainOut(Response, kw_only=True, frozen=True):
    tenant: str
    verified_at: datetime
    intact: bool
    summary: str
    events: int
    links: int
    head: int | None
    head_link: str | None
    checkpoints: int
    latest_checkpoint: CheckpointOut | None
    break_count: int
    first_break: BreakOut | None
    breaks: list[BreakOut]
    """The first 100, in log order."""


class PackageStepOut(Response, kw_only=True, frozen=True):
    version: int
    at: datetime
    event: str
    what: str
    actor_id: str | None
    actor_role: str | None
    actor_role_name: str | None
    recorded: dict[str, Any]
    """What the event recorded (the change itself; replaying these gives every state)."""

    @classmethod
    def fields_of(cls, step: Step, lang: str, runtime: TenantRuntime) -> dict[str, Any]:
        """What every view of a step shows: when, who, what in words, what it recorded."""
        return {
            "version": step.version,
            "at": in_zone(step.at, runtime.tenant.zone),
            "event": step.event,
            "what": event_words(step.event, lang),
            "actor_id": step.actor_id,
            "actor_role": step.actor_role,
            "actor_role_name": role_name(step.actor_role, lang),
            "recorded": plain(step.recorded),
        }


class PackageHistoryOut(Response, kw_only=True, frozen=True):
    kind: str
    record_id: str
    title: str
    steps: list[PackageStepOut]


class LinkOut(Response, kw_only=True, frozen=True):
    record_id: str
    version: int
    position: int
    """The event's place in the tenant's log."""
    link: str | None
    """Its link in the chain (hex); null when it is not on the chain."""


class ChainProofOut(Response, kw_only=True, frozen=True):
    intact: bool
    """The whole log agrees with its chain and every checkpoint."""
    records_intact: bool
    """Every event of this package is on the chain, and no break touches one."""
    summary: str
    events: int
    head: int | None
    head_link: str | None
    latest_checkpoint: CheckpointOut | None
    break_count: int
    breaks: list[BreakOut]
    links: list[LinkOut]


class PackageOut(Response, kw_only=True, frozen=True):
    tenant: str
    tenant_name: str
    subject: str
    """submission or campaign."""
    record_id: str
    title: str
    made_at: datetime
    made_by: str
    made_by_role: str
    histories: list[PackageHistoryOut]
    recomputation: RecomputationOut | None
    """Null before the campaign's expert review began."""
    recomputation_note: str
    chain: ChainProofOut


def plain(value: Any) -> Any:
    """Recorded values as JSON reads them (UUIDs, decimals, dates as strings)."""
    return msgspec.to_builtins(value, enc_hook=str)


class StepOut(PackageStepOut, kw_only=True, frozen=True):
    """A step as the history shows it: as in the audit package (times in Beijing time, the
    event in words, Chinese or English with `lang=en`), and what it changed."""

    changes: dict[str, dict[str, Any]]
    """Each part of the state it changed: before and after."""

    @classmethod
    def of(cls, step: Step, lang: str, runtime: TenantRuntime) -> StepOut:
        return cls(
            **cls.fields_of(step, lang, runtime),
            changes={
                k: {"before": plain(b), "after": plain(a)} for k, (b, a) in step.changes.items()
            },
        )


class HistoryOut(Response, kw_only=True, frozen=True):
    kind: str
    record_id: str
    items: list[StepOut]
    next_after: int | None
    """The version to ask `after` for the next page; null on the last."""


class StateOut(Response, kw_only=True, frozen=True):
    kind: str
    record_id: str
    version: int
    as_of: datetime
    """When that version was recorded (Beijing time)."""
    state: dict[str, Any]


class ReadOut(Response, kw_only=True, frozen=True):
    at: datetime
    what: str
    record: str | None
    record_id: str | None
    detail: dict[str, str]
    role: str


class TrailOut(Response, kw_only=True, frozen=True):
    account_id: str
    on: date
    reads: list[ReadOut]
