"""The secretariat's recommendation decisions (推荐决定): per campaign, each recommending unit's
推荐表 (filed or not) opened read-only; returned with a reason, extra quota granted with a reason,
a unit's recommendations declared invalid with a reason; direct-channel entries confirmed. The
same reads and commands as the API (`api/recommending/routes.py`'s `view`, the ledger's
`return_recommendation`, `grant_recommendation_quota`, `invalidate_recommendation`,
`confirm_direct_channel`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.concurrency import sync_to_thread
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from aggregates.actor import Actor, Role
from aggregates.ledger.application import AssociationLedger
from aggregates.limits import REASON_MAX_CHARS, too_long
from aggregates.submission import DIRECT_CHANNEL, SubmissionNotFound
from api.platform.access import access, only
from api.platform.records import Records
from api.portal import labels
from api.portal.clock import written
from api.portal.forms import FormPage, refuse, said, stripped, version_of
from api.portal.rendering import Page
from api.recommending.routes import view
from projections.campaign_list import list_campaigns
from projections.service import TenantViews
from projections.submission_list import (
    SubmissionListProjection,
    list_submissions,
    submission_rows,
)
from tenants.runtime import TenantRuntime

SECRETARIAT = only(Role.SECRETARIAT)
N_ = labels.N_
STATUSES = {
    "none": N_("未填写"),
    "draft": N_("填写中"),
    "filed": N_("已报送"),
    "returned": N_("已退回"),
    "invalid": N_("推荐无效"),
}
ACTS = {
    "return": ("reason",),
    "quota": ("extra", "reason"),
    "invalidate": ("reason",),
}
DONE = {
    "returned": N_("已退回推荐表，推荐单位可见退回原因。"),
    "quota": N_("已增加推荐名额。"),
    "invalidated": N_("已认定该单位的推荐无效。"),
    "confirmed": N_("已确认直接受理通道的申报。"),
}
REFUSALS = (
    N_("请说明退回原因"),
    N_("请说明认定推荐无效的原因"),
    N_("请说明增加名额的理由"),
    N_("增加名额须为正整数"),
    N_("推荐表尚未报送"),
    N_("已认定无效"),
    N_("该申报不是直接受理通道"),
    N_("已确认"),
    N_("推荐表正被同时修改，请稍后重试"),
)
"""The domain's refusals on these pages whose message is fixed (the catalog translates them)."""
MANY = 100_000
"""Every submitted result of a campaign, for the counts per unit (one query)."""


def _unit_rows(
    page: Page, runtime: TenantRuntime, views: TenantViews, campaign_id: UUID
) -> list[dict[str, Any]]:
    lists = views.db(SubmissionListProjection.name)
    filed = list_submissions(lists, campaign_id, filters={}, include_drafts=False, limit=MANY)
    under = Counter(r.recommending_unit for r in filed if r.status != "withdrawn")
    rows = []
    campaign = runtime.ledger.get_campaign(campaign_id)
    base = campaign.rules.recommending_unit_quota
    for unit in runtime.tenant.recommending_units:
        found = runtime.ledger.find_recommendation(campaign_id, unit.code)
        status = found.status if found is not None else "none"
        quota = found.quota(campaign) if found is not None else base
        rows.append(
            {
                "code": unit.code,
                "name": unit.name_zh,
                "results": under.get(unit.code, 0),
                "status": status,
                "status_text": page.speaker.gettext(STATUSES[status]),
                "recommended": len(found.entries) if found is not None else 0,
                "quota": quota,
                "filed_at": written(found.filed_at, page.zone, page.speaker)
                if found is not None and found.filed_at
                else "",
            }
        )
    return rows


def _direct_rows(views: TenantViews, campaign_id: UUID) -> list[dict[str, Any]]:
    lists = views.db(SubmissionListProjection.name)
    rows = list_submissions(
        lists,
        campaign_id,
        filters={"recommending_unit": DIRECT_CHANNEL},
        include_drafts=False,
        limit=MANY,
    )
    return [
        {
            "id": r.submission_id,
            "serial": r.serial or "",
            "enterprise": r.unit_name,
            "title": r.title,
            "status": r.status,
            "confirmed": r.direct_channel_confirmed,
            "version": r.version,
        }
        for r in rows
        if r.status != "withdrawn"
    ]


def _campaign_context(
    page: Page, runtime: TenantRuntime, views: TenantViews, campaign_id: UUID
) -> dict[str, Any]:
    campaign = runtime.ledger.get_campaign(campaign_id)
    return {
        "campaign": {"id": str(campaign_id), "title": campaign.title},
        "units": _unit_rows(page, runtime, views, campaign_id),
        "direct": _direct_rows(views, campaign_id),
    }


def units_page(
    runtime: TenantRuntime, views: TenantViews, campaign_id: UUID, flag: str = ""
) -> FormPage:
    """A campaign's units and direct channel (after the `flag` of what was done), where a
    direct-channel result is confirmed (a refusal above the lists)."""
    return FormPage(
        "decisions/units.html",
        lambda page: {
            **_campaign_context(page, runtime, views, campaign_id),
            "done": said(page, DONE, flag),
        },
    )


def _form_context(
    page: Page,
    runtime: TenantRuntime,
    views: TenantViews,
    campaign_id: UUID,
    unit: str,
    name: str,
) -> dict[str, Any]:
    form = view(runtime, views, campaign_id, unit, name)
    campaign = runtime.ledger.get_campaign(campaign_id)
    declined = submission_rows(
        views.db(SubmissionListProjection.name),
        [UUID(s) for s in form.not_recommended],
    )
    return {
        "campaign": {"id": str(campaign_id), "title": campaign.title},
        "form": form,
        "status_text": page.speaker.gettext(STATUSES[form.status if form.version else "none"]),
        "filed_at": written(form.filed_at, page.zone, page.speaker) if form.filed_at else "",
        "declined": [
            {"title": declined[s].title if s in declined else s, "reason": reason}
            for s, reason in form.not_recommended.items()
        ],
    }


def form_page(
    runtime: TenantRuntime,
    views: TenantViews,
    campaign_id: UUID,
    unit: str,
    name: str,
    flag: str = "",
    acting: str = "",
    **form: Any,
) -> FormPage:
    """One unit's 推荐表, read-only (after the `flag` of what was done), where it is returned,
    given extra quota or declared invalid (`acting`: which form a refusal shows again)."""
    return FormPage(
        "decisions/form.html",
        lambda page: {
            **_form_context(page, runtime, views, campaign_id, unit, name),
            "acting": acting,
            "done": said(page, DONE, flag),
        },
        **form,
    )


@dataclass(frozen=True)
class Decision:
    """A decision on one unit's 推荐表 as posted: its reason (and the extra places typed), at
    the version the page was read at, by whom."""

    campaign_id: UUID
    unit: str
    reason: str
    extra: str
    version: int | None
    actor: Actor


DecisionCommand = Callable[[AssociationLedger, Decision], object]


def _decision(act: str, operation_id: str, done: str, command: DecisionCommand) -> Any:
    """A decision on one unit's 推荐表, posted with its reason (and the extra places): the
    command at the version the page was read at; refused, the form with the input kept."""

    @post(
        f"/{{campaign_id:uuid}}/units/{{unit:str}}/{act}",
        operation_id=operation_id,
        opt=access(SECRETARIAT),
    )
    async def decide(
        self: Any,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        unit: FromPath[str],
        records: NamedDependency[Records],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        posted = await request.form()
        values = stripped(posted, "reason", "extra")
        version = version_of(posted.get("version"))
        decision = Decision(campaign_id, unit, values["reason"], values["extra"], version, actor)
        runtime = views.runtime

        def run() -> Redirect:
            name = records.unit_name(runtime, unit, own=False)
            form = form_page(
                runtime, views, campaign_id, unit, name, acting=act, fields=ACTS[act], values=values
            )
            return form.run(
                request,
                runtime.tenant,
                lambda: command(runtime.ledger, decision),
                _done(runtime, f"{campaign_id}/units/{unit}", done),
            )

        return await sync_to_thread(run)

    return decide


def _bounded(reason: str) -> str:
    """The reason's bound, as the API's schema (`Reason`) takes it from the domain."""
    refuse(too_long("reason", reason, REASON_MAX_CHARS, "原因"))
    return reason


def _return(ledger: AssociationLedger, d: Decision) -> None:
    ledger.return_recommendation(d.campaign_id, d.unit, _bounded(d.reason), d.actor, d.version)


def _grant_quota(ledger: AssociationLedger, d: Decision) -> None:
    """The domain checks the number and the reason together."""
    extra = int(d.extra) if d.extra.lstrip("-").isdigit() else 0
    ledger.grant_recommendation_quota(d.campaign_id, d.unit, extra, d.reason, d.actor, d.version)


def _invalidate(ledger: AssociationLedger, d: Decision) -> None:
    reason = _bounded(d.reason)
    ledger.invalidate_recommendation(d.campaign_id, d.unit, reason, d.actor, d.version)


class DecisionPages(Controller):
    """推荐决定, for the secretariat."""

    path = "/{tenant:str}/decisions"
    include_in_schema = False

    @get("/", operation_id="portalDecisionCampaigns", sync_to_thread=True, opt=access(SECRETARIAT))
    def campaigns(
        self, request: Request[Any, Any, Any], views: NamedDependency[TenantViews]
    ) -> Template:
        """The campaigns, each leading to its units' 推荐表."""
        page = Page(request, views.runtime.tenant)
        found = list_campaigns(views.db("campaign_list"))
        rows = [
            {
                "href": f"/{views.runtime.tenant.code}/decisions/{c.campaign_id}",
                "title": c.title,
                "programme": labels.programme(page.speaker, c.programme),
                "year": c.year,
            }
            for c in found
        ]
        return page.render("decisions/campaigns.html", campaigns=rows)

    @get(
        "/{campaign_id:uuid}",
        operation_id="portalDecisionUnits",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
    )
    def units(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
    ) -> Template:
        """A campaign's recommending units (their 推荐表, quotas) and its direct channel's results."""
        flag = request.query_params.get("done", "")
        return units_page(runtime, views, campaign_id, flag).show(request, runtime.tenant)

    @post(
        "/{campaign_id:uuid}/direct/{submission_id:uuid}/confirm",
        operation_id="portalConfirmDirectChannel",
        opt=access(SECRETARIAT),
    )
    async def confirm_direct(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        submission_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        """A result filed through the direct channel (直接受理) confirmed."""
        version = version_of((await request.form()).get("version"))

        def run() -> Redirect:
            submission = runtime.ledger.get_submission(submission_id)
            if submission.campaign_id != campaign_id:
                raise SubmissionNotFound()
            return units_page(runtime, views, campaign_id).run(
                request,
                runtime.tenant,
                lambda: runtime.ledger.confirm_direct_channel(submission_id, actor, version),
                _done(runtime, f"{campaign_id}", "confirmed"),
            )

        return await sync_to_thread(run)

    @get(
        "/{campaign_id:uuid}/units/{unit:str}",
        operation_id="portalDecisionForm",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
    )
    def form(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        unit: FromPath[str],
        records: NamedDependency[Records],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
    ) -> Template:
        """One unit's 推荐表, read-only, with the secretariat's decisions on it."""
        name = records.unit_name(runtime, unit, own=False)
        flag = request.query_params.get("done", "")
        form = form_page(runtime, views, campaign_id, unit, name, flag)
        return form.show(request, runtime.tenant)

    # 退回: the form back to its unit, with the reason the unit reads.
    return_form = _decision("return", "portalReturnRecommendation", "returned", _return)
    # 增加名额 (可适当增加), with the reason.
    grant_quota = _decision("quota", "portalGrantQuota", "quota", _grant_quota)
    # 推荐无效 (a unit found charging fees, say), with the reason.
    invalidate = _decision(
        "invalidate", "portalInvalidateRecommendation", "invalidated", _invalidate
    )


def _done(runtime: TenantRuntime, where: str, done: str) -> str:
    return f"/{runtime.tenant.code}/decisions/{where}?done={done}"
