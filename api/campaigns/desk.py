"""The secretariat's campaign desk (秘书处工作台): a campaign's counts per stage in total and per
recommending unit, the units that have not filed their 推荐表, 统计表 or 工作总结, the applicant
units below the least number of results, and the reminder mailed to the late units (through the
outbox, recorded as the campaign's `LateUnitsReminded`). Reads the read models and the ledger
as the JSON API does; the page (`api/portal/secretariat.py`) shows it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from uuid import UUID

from aggregates.account import AccountStatus
from aggregates.actor import Actor, Role
from aggregates.campaign import PHASE_NAMES_ZH, Campaign, Phase
from aggregates.problems import Problem
from aggregates.submission_register import ResultsCount, short_of_minimum
from api.accounts.routes import Auth
from api.platform.errors import RequestProblem
from projections.campaign_desk import unit_accounts, written_summaries
from projections.campaign_figures import (
    Figures,
    campaign_figures,
    entries_reader,
    filed_recommendations,
)
from projections.reported_statistics import reported_tables
from projections.service import TenantViews
from projections.submission_list import FILED_STATUSES, StageCount, stage_counts
from tenants.registry import UnitKind

FIGURE_STAGES = (
    "registrations",
    "submissions",
    "withdrawn",
    "recommended",
    "formal_passed",
    "formal_rejected",
    "graded",
)
"""The stages counted as the statistics API counts them (`projections.campaign_figures`)."""
LISTED_STAGES = ("drafted", "returned", "in_review", "public_notice", "published")
"""The stages the submission list knows (where each result stands now)."""
REPORTS = ("recommendation", "statistics", "work_summary")
REPORT_NAMES_ZH = {"recommendation": "推荐表", "statistics": "统计表", "work_summary": "工作总结"}
REPORT_PHASE = {
    "recommendation": Phase.RECOMMENDATION,
    "statistics": Phase.RECOMMENDATION,
    "work_summary": Phase.RECOMMENDATION,
}
"""Each report is due with the recommendation phase (成果推荐)."""


def _listed(rows: list[StageCount]) -> Counter[str]:
    found: Counter[str] = Counter()
    for row in rows:
        if row.status == "draft":
            found["drafted"] += row.results
        if row.status == "returned":
            found["returned"] += row.results
        if row.stage == "in_review":
            found["in_review"] += row.results
        if row.stage == "public_notice":
            found["public_notice"] += row.results
        if row.stage in ("published", "forwarded", "national_result"):
            found["published"] += row.results
    return found


@dataclass(frozen=True)
class UnitCounts:
    code: str | None
    """None: the totals."""
    counts: dict[str, int | None]


@dataclass(frozen=True)
class LateUnit:
    code: str
    name: str
    missing: list[str]
    """Of REPORTS, in their order."""


@dataclass
class Desk:
    campaign: Campaign
    totals: UnitCounts
    units: list[UnitCounts]
    late: list[LateUnit]
    below_minimum: list[tuple[ResultsCount, str]] = field(default_factory=list)
    """Each applicant unit below the minimum, with its name as filed."""


def _counts(code: str | None, figures: Figures | None, rows: list[StageCount]) -> UnitCounts:
    counts: dict[str, int | None] = {
        stage: (getattr(figures, stage) if figures is not None else 0) for stage in FIGURE_STAGES
    }
    if code is not None:
        counts["registrations"] = None  # a registration names no recommending unit
    listed = _listed(rows)
    counts.update({stage: listed[stage] for stage in LISTED_STAGES})
    return UnitCounts(code, counts)


def desk(views: TenantViews, campaign_id: UUID) -> Desk:
    """The campaign's desk, from the read models (caught up with the ledger first)."""
    runtime = views.runtime
    campaign = runtime.ledger.get_campaign(campaign_id)  # another tenant's: not found
    views.wait(runtime.ledger.recorder.max_notification_id())
    db = views.db("campaign_statistics")
    entries = entries_reader(db)  # the campaign's rows read once for both
    figures = campaign_figures(db, str(campaign_id), "recommending_unit", {}, entries)
    overall = campaign_figures(db, str(campaign_id), entries=entries)  # with registrations
    if figures is None or overall is None:
        raise RequestProblem(503, Problem("campaign_id", "catching_up", "统计正在更新，请稍后再试"))
    rows = stage_counts(views.db("submission_list"), campaign_id)
    groups = {g.key: g.figures for g in figures.groups}
    by_unit: dict[str, list[StageCount]] = {}
    for row in rows:
        by_unit.setdefault(row.recommending_unit, []).append(row)
    known = [u.code for u in runtime.tenant.recommending_units]
    codes = known + sorted({str(k) for k in [*groups, *by_unit] if k and k not in known})
    units = [
        _counts(code, groups.get(code), by_unit.get(code, []))
        for code in codes
        if code in groups or code in by_unit
    ]
    names = {r.credit_code: r.unit_name for r in rows}
    filed: Counter[str] = Counter()
    for row in rows:
        if row.status in FILED_STATUSES:
            filed[row.credit_code] += row.results
    below = [(c, names.get(c.credit_code, "")) for c in short_of_minimum(campaign, filed)]
    return Desk(
        campaign,
        _counts(None, overall.totals.figures, rows),
        units,
        late_units(views, campaign),
        below,
    )


def late_units(views: TenantViews, campaign: Campaign) -> list[LateUnit]:
    """The recommending units (the direct channel aside) that have not filed their 推荐表, not
    recorded their 统计表 or not written their 工作总结."""
    runtime = views.runtime
    filed = filed_recommendations(views.db("campaign_statistics"), str(campaign.id))
    tables = reported_tables(views.db("reported_statistics"), campaign.id)
    written = written_summaries(views.db("campaign_desk"), campaign.id)
    found = []
    for unit in runtime.tenant.recommending_units:
        if unit.kind is UnitKind.DIRECT:
            continue
        missing = []
        if unit.code not in filed:
            missing.append("recommendation")
        if unit.code not in tables:
            missing.append("statistics")
        if unit.code not in written:
            missing.append("work_summary")
        if missing:
            found.append(LateUnit(unit.code, unit.name_zh, missing))
    return found


@dataclass(frozen=True)
class Reminded:
    units: int
    recipients: int
    without_account: list[str]
    """Late units no active account of which could be mailed."""


def remind_late_units(views: TenantViews, auth: Auth, campaign_id: UUID, actor: Actor) -> Reminded:
    """Mail every active account of each late unit what it has not filed and by when (through
    the outbox), and record the reminder on the campaign (who, when, which units, what)."""
    runtime = views.runtime
    campaign = runtime.ledger.get_campaign(campaign_id)
    views.wait(runtime.ledger.recorder.max_notification_id())
    late = late_units(views, campaign)
    accounts = unit_accounts(views.db("campaign_desk"))
    mails: list[tuple[str, str, str]] = []
    without = []
    for unit in late:
        recipients = [
            account
            for account in (runtime.ledger.get_account(i) for i in accounts.get(unit.code, []))
            if account.status is AccountStatus.ACTIVE
            and any(
                g.role is Role.RECOMMENDING_UNIT and g.scope == unit.code for g in account.grants
            )
        ]
        if not recipients:
            without.append(unit.code)
        for account in recipients:
            mails.append((account.login, *_reminder(auth, campaign, unit, account.name)))
    runtime.ledger.remind_late_units(
        campaign_id, {u.code: u.missing for u in late}, len(mails), actor
    )
    for login, subject, body in mails:
        auth.store.queue_mail(login, subject, body, auth.now)
    return Reminded(len(late), len(mails), without)


def _reminder(auth: Auth, campaign: Campaign, unit: LateUnit, name: str) -> tuple[str, str]:
    tenant = auth.runtime.tenant
    items = "、".join(REPORT_NAMES_ZH[m] for m in unit.missing)
    due = []
    for phase in sorted({REPORT_PHASE[m] for m in unit.missing}, key=list(Phase).index):
        window = campaign.timeline.get(phase)
        if window is not None:
            local = window.closes_at.astimezone(tenant.zone)
            when = f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
            due.append(f"{PHASE_NAMES_ZH[phase]}截止时间：{when}（北京时间）")
    body = (
        f"{name}，您好：\n\n{unit.name}在“{campaign.title}”中尚未报送：{items}。\n"
        + "".join(f"{line}\n" for line in due)
        + f"\n请登录平台尽快办理：{auth.settings.base_url}/{tenant.code}/\n\n"
        f"{tenant.name_zh}秘书处"
    )
    return f"【{tenant.short_name_zh}】请报送{items}", body
