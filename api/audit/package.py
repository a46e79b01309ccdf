"""The audit package (审计包) of one submission or one campaign: its history, event by event; the
recomputation of its review outcomes; and the chain proof (each of its events' place in the log
and link, and the whole log verified against the chain and its checkpoints). Served as JSON and
as a printable PDF (api/audit/report.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate

from aggregates.actor import ROLE_NAMES_ZH, Actor
from aggregates.campaign import Campaign
from aggregates.grading import Grading
from aggregates.ledger.audit import NothingToRecompute, Step
from aggregates.review_round import ReviewRound
from aggregates.submission import Submission
from api.audit.chain import BreakOut, CheckpointOut
from api.audit.schemas import RecomputationOut
from api.audit.words import event_words, role_name
from api.platform.schemas import Response, in_zone
from tenants.chain_verify import verify
from tenants.runtime import TenantRuntime


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


def _history(
    runtime: TenantRuntime, kind: str, record_id: UUID, cls: type[Aggregate], title: str
) -> PackageHistoryOut:
    steps = [
        PackageStepOut(**PackageStepOut.fields_of(s, "zh", runtime))
        for s in runtime.ledger.history(record_id, cls)
    ]
    return PackageHistoryOut(kind=kind, record_id=str(record_id), title=title, steps=steps)


def _subject(
    runtime: TenantRuntime, subject: str, record_id: UUID
) -> tuple[str, UUID, list[PackageHistoryOut]]:
    """The package's title, its campaign and its histories."""
    ledger = runtime.ledger
    if subject == "submission":
        submission = ledger.get_submission(record_id)
        title = f"申报成果 {submission.serial or '（未编号）'}：{submission.title}"
        history = _history(runtime, "submission", record_id, Submission, title)
        return title, submission.campaign_id, [history]
    campaign = ledger.get_campaign(record_id)
    histories = [_history(runtime, "campaign", record_id, Campaign, f"活动：{campaign.title}")]
    for plan in campaign.review_plan.rounds:
        round_id = ReviewRound.create_id(record_id, plan.code)
        if list(ledger.events.get(round_id, limit=1)):
            histories.append(
                _history(
                    runtime, "review_round", round_id, ReviewRound, f"评审轮次：{plan.name_zh}"
                )
            )
    grading_id = Grading.create_id(record_id)
    if list(ledger.events.get(grading_id, limit=1)):
        histories.append(_history(runtime, "grading", grading_id, Grading, "评审结果与等级认定"))
    return f"活动：{campaign.title}", record_id, histories


def build_package(
    runtime: TenantRuntime, subject: str, record_id: UUID, actor: Actor
) -> PackageOut:
    title, campaign_id, histories = _subject(runtime, subject, record_id)
    ledger = runtime.ledger
    names = runtime.grade_names(ledger.get_campaign(campaign_id).programme)
    try:
        found = ledger.recompute(campaign_id)
    except NothingToRecompute:
        recomputation, note = None, "该活动尚未开始专家评审，无可重算"
    else:
        recomputation = RecomputationOut.of(campaign_id, found, names, runtime)
        if subject == "submission":  # its own differences and decisions; the counts as checked
            mine = str(record_id)
            recomputation = _only(recomputation, mine)
        note = (
            "按记录的评分表与规则重算，与记录及发布结果一致"
            if recomputation.intact
            else f"重算发现 {len(recomputation.differences)} 处不一致"
        )
    return PackageOut(
        tenant=runtime.tenant.code,
        tenant_name=runtime.tenant.name_zh,
        subject=subject,
        record_id=str(record_id),
        title=title,
        made_at=in_zone(datetime.now(UTC), runtime.tenant.zone),
        made_by=actor.user_id,
        made_by_role=ROLE_NAMES_ZH.get(actor.role, str(actor.role)),
        histories=histories,
        recomputation=recomputation,
        recomputation_note=note,
        chain=_chain_proof(runtime, [UUID(h.record_id) for h in histories]),
    )


def _only(found: RecomputationOut, submission_id: str) -> RecomputationOut:
    differences = [d for d in found.differences if d.submission_id == submission_id]
    return msgspec.structs.replace(
        found,
        intact=not differences,
        differences=differences,
        decisions=[d for d in found.decisions if d.submission_id == submission_id],
    )


def _chain_proof(runtime: TenantRuntime, record_ids: list[UUID]) -> ChainProofOut:
    report = verify(runtime.chain)
    links = [p for record_id in record_ids for p in runtime.chain.proof(record_id)]
    places = {p.position for p in links}
    ids = {str(r) for r in record_ids}
    touched = [b for b in report.breaks if b.position in places or b.originator_id in ids]
    latest = report.checkpoints[-1] if report.checkpoints else None
    return ChainProofOut(
        intact=report.intact,
        records_intact=not touched and all(p.link is not None for p in links),
        summary=report.summary,
        events=report.events,
        head=report.head,
        head_link=report.head_link,
        latest_checkpoint=CheckpointOut.of(latest, runtime) if latest else None,
        break_count=report.break_count,
        breaks=[BreakOut.of(b) for b in report.breaks],
        links=[
            LinkOut(record_id=p.originator_id, version=p.version, position=p.position, link=p.link)
            for p in links
        ],
    )
