"""Forwarding to national (推荐全国) in the browser, and the national intake.

A member association's secretariat (saq, sdaq, cmiqa) sees the national campaign of the same
programme and year, its window and this association's quota as it fills, its published graded
results to choose from, forwards one with its evaluation (counted against the national
campaign's limit), withdraws one with a reason while the national formal review has not begun,
and reads each forward's national status and grade as it comes back. The national association
(caq) sees what each member association forwarded, withdrew (with reasons), its rosters and
report, and grants one association extra places with a reason.

The same commands and reads as `api/forwarding/routes.py` (`forwarding_out`, the ledger's
`forward_result`, `withdraw_forward`, `grant_forwarding_quota`)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from aggregates.actor import Actor
from aggregates.forwarding import ForwardingConflict, NationalCall
from aggregates.problems import Problem
from api.forwarding.routes import (
    NATIONAL_READERS,
    READERS,
    SECRETARIAT,
    forwarding_out,
    national_ledger,
)
from api.forwarding.schemas import ForwardingOut, IntakeOut
from api.platform.access import access
from api.platform.errors import RequestProblem
from api.portal import labels
from api.portal.accounts import english_words
from api.portal.clock import written
from api.portal.forms import FormPage, PortalForm, Posted
from api.portal.i18n import Speaker
from api.portal.rendering import Page
from api.review.routes import fresh
from projections.campaign_list import list_campaigns
from projections.review_board import campaign_results
from projections.service import TenantViews
from projections.submission_list import submission_rows
from tenants.national import national_call
from tenants.registry import Level
from tenants.runtime import Platform, TenantRuntime


class ForwardForm(PortalForm):
    submission_id: str = ""
    evaluation: str = ""


class WithdrawForm(PortalForm):
    reason: str = ""


class QuotaForm(PortalForm):
    extra: str = ""
    reason: str = ""


def _forwarding_context(
    page: Page, platform: Platform, views: TenantViews, campaign_id: UUID
) -> dict[str, Any]:
    runtime = views.runtime
    campaign = runtime.ledger.get_campaign(campaign_id)
    try:  # read once: the page's window and quota, and the evaluation's limit
        call: NationalCall | None = national_call(platform, runtime, campaign)
    except ForwardingConflict:
        call = None  # the national campaign is not opened yet: the page says so
    found: ForwardingOut = forwarding_out(platform, runtime, campaign_id, call).content
    limit = call.campaign.rules.evaluation_max_chars if call is not None else 300
    # A withdrawn forward is no candidate either: the domain refuses to forward it again.
    forwarded = {f.submission_id for f in found.forwards}
    fresh(views)
    grades = runtime.grade_names(campaign.programme)
    candidates = [
        {
            "id": r.submission_id,
            "serial": r.serial,
            "title": f"{r.group_name}：{r.topic}".strip("："),  # as the forwards are named
            "unit_name": r.unit_name,
            "grade": grades.get(r.grade, r.grade) if r.grade else "",
        }
        for r in campaign_results(views.db("review_board"), campaign_id, {})
        if r.status == "published" and r.grade and r.submission_id not in forwarded
    ]
    zone, speaker = page.zone, page.speaker
    return {
        "campaign": campaign,
        "found": found,
        "window": (
            f"{written(found.window_opens_at, zone, speaker)} — "
            f"{written(found.window_closes_at, zone, speaker)}"
            if found.window_opens_at and found.window_closes_at
            else ""
        ),
        "forwards": [
            {
                "id": f.submission_id,
                "serial": f.serial,
                "title": f.title,
                "unit_name": f.unit_name,
                "grade": f.grade_name,
                "evaluation": f.evaluation,
                "at": written(f.forwarded_at, zone, speaker),
                "withdrawn_reason": f.withdrawn_reason,
                "national": f.national,
                "may_withdraw": f.withdrawn_reason is None
                and (f.national is None or f.national.formal_review is None),
            }
            for f in found.forwards
        ],
        "candidates": candidates,
        "limit": limit,
        "closed": _closed(call, runtime, speaker),
        "quota_full": found.quota is not None and found.used >= found.quota,
        "base": f"/{runtime.tenant.code}/secretariat/campaigns/{campaign_id}/national-forwarding",
    }


def _closed(call: NationalCall | None, runtime: TenantRuntime, speaker: Speaker) -> str:
    """Why nothing can be forwarded now (outside the national window, archived), in the
    domain's words; empty while forwarding is open. The page then offers no forms."""
    if call is None:
        return ""
    try:
        call.check_open(runtime.ledger.clock())
    except ForwardingConflict as refusal:
        return labels.problem(speaker, refusal.problems[0])
    return ""


def forwarding_page(
    platform: Platform,
    views: TenantViews,
    campaign_id: UUID,
    flag: str = "",
    forwarding: str = "",
    withdrawing: str = "",
    **form: Any,
) -> FormPage:
    """The forwarding page (after the `flag` of what was done), where a result is forwarded
    (`forwarding`: the row whose evaluation a refusal shows again) or a forward withdrawn
    (`withdrawing`: the row whose reason)."""
    return FormPage(
        "national/forwarding.html",
        lambda page: {
            **_forwarding_context(page, platform, views, campaign_id),
            "forwarding_row": forwarding,
            "withdrawing_row": withdrawing,
            "done": flag,
        },
        on_refusal=english_words,
        **form,
    )


class NationalForwardingPages(Controller):
    """推荐全国 of a member association's campaign."""

    path = "/{tenant:str}/secretariat/campaigns/{campaign_id:uuid}/national-forwarding"
    include_in_schema = False

    @get("/", operation_id="portalNationalForwarding", sync_to_thread=True, opt=access(READERS))
    def show(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        views: NamedDependency[TenantViews],
        platform: NamedDependency[Platform],
        done: Annotated[str | None, QueryParameter(max_length=20)] = None,
    ) -> Template:
        """The national campaign's window and this association's quota as it fills, the results to
        forward, each forward's national status and grade."""
        flag = done if done in ("forwarded", "withdrawn") else ""
        form = forwarding_page(platform, views, campaign_id, flag)
        return form.show(request, views.runtime.tenant)

    @post(
        "/forward", operation_id="portalForwardResult", sync_to_thread=True, opt=access(SECRETARIAT)
    )
    def forward(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        data: Posted[ForwardForm],
        views: NamedDependency[TenantViews],
        platform: NamedDependency[Platform],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        """Forward one published graded result with the association's evaluation."""
        runtime = views.runtime

        def forward() -> None:
            submission_id = _uuid(data.submission_id)
            call = national_call(platform, runtime, runtime.ledger.get_campaign(campaign_id))
            evaluation = data.evaluation.strip()
            runtime.ledger.forward_result(campaign_id, submission_id, call, evaluation, actor)

        form = forwarding_page(
            platform,
            views,
            campaign_id,
            forwarding=data.submission_id,
            # A refusal of the result itself (over the quota, not graded) is shown on its card.
            fields=("evaluation", "submission_id"),
            values={"evaluation": data.evaluation},
        )
        return form.run(request, runtime.tenant, forward, _done(runtime, campaign_id, "forwarded"))

    @post(
        "/{submission_id:uuid}/withdraw",
        operation_id="portalWithdrawForward",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
    )
    def withdraw(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        submission_id: FromPath[UUID],
        data: Posted[WithdrawForm],
        views: NamedDependency[TenantViews],
        platform: NamedDependency[Platform],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        """Withdraw a forward, with the reason the national association reads."""
        runtime = views.runtime
        form = forwarding_page(
            platform,
            views,
            campaign_id,
            withdrawing=str(submission_id),
            fields=("reason", "submission_id"),
            values={"reason": data.reason},
        )
        return form.run(
            request,
            runtime.tenant,
            lambda: runtime.ledger.withdraw_forward(
                campaign_id, submission_id, data.reason.strip(), actor
            ),
            _done(runtime, campaign_id, "withdrawn"),
        )


class NationalIndexPages(Controller):
    """推荐全国 / 全国接收: the tenant's campaigns, each leading to its forwarding page (a member
    association) or its intake (the national association)."""

    path = "/{tenant:str}/national"
    include_in_schema = False

    @get("/", operation_id="portalNationalIndex", sync_to_thread=True, opt=access(NATIONAL_READERS))
    def index(
        self, request: Request[Any, Any, Any], views: NamedDependency[TenantViews]
    ) -> Template:
        runtime = views.runtime
        page = Page(request, runtime.tenant)
        national = runtime.tenant.level is Level.NATIONAL
        code = runtime.tenant.code
        rows = [
            {
                "title": c.title,
                "year": c.year,
                "href": f"/{code}/national/campaigns/{c.campaign_id}/intake"
                if national
                else f"/{code}/secretariat/campaigns/{c.campaign_id}/national-forwarding",
            }
            for c in list_campaigns(views.db("campaign_list"))
        ]
        return page.render("national/index.html", national=national, campaigns=rows)


def _done(runtime: TenantRuntime, campaign_id: UUID, what: str) -> str:
    return (
        f"/{runtime.tenant.code}/secretariat/campaigns/{campaign_id}/national-forwarding"
        f"?done={what}"
    )


def _uuid(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise RequestProblem(
            422, Problem("submission_id", "required", "请选择要推荐的成果")
        ) from None


def _intake_context(page: Page, views: TenantViews, campaign_id: UUID) -> dict[str, Any]:
    runtime = views.runtime
    ledger = national_ledger(runtime)
    campaign = ledger.get_campaign(campaign_id)
    base = campaign.rules.recommending_unit_quota
    zone, speaker = page.zone, page.speaker
    intakes = {
        unit.code: (unit, ledger.find_intake(campaign_id, unit.code))
        for unit in runtime.tenant.recommending_units
        if unit.tenant is not None
    }
    # What each received result is (its title and applicant), from the list of this tenant's
    # submissions, where the intake recorded it with the same write.
    fresh(views)
    listed = submission_rows(
        views.db("submission_list"),
        [UUID(key) for _, intake in intakes.values() if intake for key in intake.received],
    )
    members = []
    for unit, intake in intakes.values():
        found = IntakeOut.of(intake, unit.name_zh, base) if intake else None
        members.append(
            {
                "code": unit.code,
                "name": unit.name_zh,
                "quota": found.quota if found else ledger.forwarding_quota(campaign, unit.code),
                "used": found.used if found else 0,
                "received": [
                    {
                        "serial": r.serial,
                        "title": row.title if (row := listed.get(r.submission_id)) else "",
                        "unit_name": row.unit_name if row else "",
                        "at": written(r.received_at, zone, speaker),
                        "withdrawn_reason": r.withdrawn_reason,
                        "href": f"/{runtime.tenant.code}/audit/submission/{r.submission_id}",
                    }
                    for r in (found.received if found else [])
                ],
                "roster": found.roster if found else [],
                "report_at": written(found.report_received_at, zone, speaker)
                if found and found.report_received_at
                else "",
            }
        )
    return {
        "campaign": campaign,
        "members": members,
        "base": f"/{runtime.tenant.code}/national/campaigns/{campaign_id}/intake",
        "granted": "",
    }


def intake_page(
    views: TenantViews, campaign_id: UUID, granting: str = "", granted: str = "", **form: Any
) -> FormPage:
    """The intake, where a member association is granted extra places (`granting`: the row
    whose form a refusal shows again; `granted`: the association just granted some, named in
    the notice)."""

    def context(page: Page) -> dict[str, Any]:
        found = _intake_context(page, views, campaign_id)
        named = {m["code"]: m["name"] for m in found["members"]}
        return {**found, "granting_row": granting, "granted": named.get(granted, "")}

    return FormPage("national/intake.html", context, on_refusal=english_words, **form)


class IntakePages(Controller):
    """The national association's intake of one national campaign."""

    path = "/{tenant:str}/national/campaigns/{campaign_id:uuid}/intake"
    include_in_schema = False

    @get("/", operation_id="portalIntake", sync_to_thread=True, opt=access(NATIONAL_READERS))
    def show(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        views: NamedDependency[TenantViews],
        granted: Annotated[str | None, QueryParameter(max_length=40)] = None,
    ) -> Template:
        """What each member association forwarded and withdrew (with reasons), its roster and
        report; extra places granted."""
        page = intake_page(views, campaign_id, granted=granted or "")
        return page.show(request, views.runtime.tenant)

    @post(
        "/{unit:str}/quota",
        operation_id="portalGrantForwardingQuota",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
    )
    def grant(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        unit: FromPath[str],
        data: Posted[QuotaForm],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        """Extra places for one member association, with the reason it reads."""
        runtime = views.runtime

        def grant() -> None:
            found = runtime.tenant.unit(unit)
            if found is None or found.tenant is None:
                raise RequestProblem(404, Problem("unit", "not_found", "没有该推荐单位"))
            try:
                extra = int(data.extra.strip())
            except ValueError:
                raise RequestProblem(
                    422, Problem("extra", "range", "请填写增加的名额（正整数）")
                ) from None
            runtime.ledger.grant_forwarding_quota(
                campaign_id, unit, found.tenant, extra, data.reason, actor
            )

        form = intake_page(
            views,
            campaign_id,
            granting=unit,
            fields=("extra", "reason"),
            values={"extra": data.extra, "reason": data.reason},
        )
        done = f"/{runtime.tenant.code}/national/campaigns/{campaign_id}/intake?granted={unit}"
        return form.run(request, runtime.tenant, grant, done)
