"""The audit package (审计包) of one submission or one campaign: its history, event by event; the
recomputation of its review outcomes; and the chain proof (each of its events' place in the log
and link, and the whole log verified against the chain and its checkpoints). Served as JSON and
as a printable PDF (api/audit/report.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate

from aggregates.actor import ROLE_NAMES_ZH, Actor
from aggregates.campaign import Campaign
from aggregates.grading import Grading
from aggregates.ledger.audit import NothingToRecompute
from aggregates.review_round import ReviewRound
from aggregates.submission import Submission
from api.audit.schemas import (
    BreakOut,
    ChainProofOut,
    CheckpointOut,
    LinkOut,
    PackageHistoryOut,
    PackageOut,
    PackageStepOut,
    RecomputationOut,
)
from api.platform.schemas import in_zone
from tenants.chain_verify import verify
from tenants.runtime import TenantRuntime


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
