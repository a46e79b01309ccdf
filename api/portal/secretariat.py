"""The secretariat's campaign desk (秘书处): the tenant's campaigns, each with its phases on a line
with today; a campaign's desk with its counts per stage in total and per recommending unit, the
units that have not filed their 推荐表, 统计表 or 工作总结, the applicant units below the least
number of results, the next deadlines with countdowns, and one click to remind the late units
by mail. Auditors read it; only the secretariat reminds. The reads and the reminder are
`api/campaigns/desk.py`'s."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.plugins.htmx import HTMXTemplate
from litestar.response import Redirect, Template

from aggregates.actor import Actor, Role
from aggregates.campaign import Campaign, Phase, Window
from api.accounts.routes import Auth
from api.campaigns.desk import REPORTS, Desk, desk, remind_late_units
from api.platform.access import access, only
from api.portal import labels
from api.portal.clock import countdown, line, span, written
from api.portal.public import is_current, timeline_of
from api.portal.rendering import Page
from projections.campaign_list import CampaignSummary, list_campaigns
from projections.service import TenantViews

N_ = labels.N_
READERS = only(Role.SECRETARIAT, Role.AUDITOR)
SECRETARIAT = only(Role.SECRETARIAT)

STAGES = {
    "registrations": N_("报名"),
    "drafted": N_("草稿"),
    "submissions": N_("已申报"),
    "withdrawn": N_("已撤回"),
    "recommended": N_("已推荐"),
    "formal_passed": N_("形式审查通过"),
    "returned": N_("退回修改"),
    "formal_rejected": N_("形式审查未通过"),
    "in_review": N_("评审中"),
    "graded": N_("已认定等级"),
    "public_notice": N_("公示中"),
    "published": N_("已发布"),
}
"""The desk's columns, in the order a result moves."""
REPORT_NAMES = {
    "recommendation": N_("推荐表"),
    "statistics": N_("统计表"),
    "work_summary": N_("工作总结"),
}
CAMPAIGN_STATUSES = {
    "open": N_("进行中"),
    "ended": N_("各阶段均已截止，结果未发布"),
    "published": N_("已发布"),
    "archived": N_("已归档"),
}
DEADLINES_SHOWN = 4


def deadlines(page: Page, timeline: dict[Phase, Window], now: datetime) -> list[dict[str, str]]:
    """The next deadlines still ahead, soonest first, with how long is left."""
    order = list(Phase)
    ahead = sorted(
        ((w.closes_at, order.index(p), p) for p, w in timeline.items() if w.closes_at > now)
    )
    return [
        {
            "phase": labels.phase(page.speaker, phase),
            "when": written(moment, page.zone, page.speaker),
            "left": page.speaker.gettext("还剩 %(span)s")
            % {"span": span(moment - now, page.speaker)},
            "open": "open" if timeline[phase].is_open(now) else "upcoming",
        }
        for moment, _, phase in ahead[:DEADLINES_SHOWN]
    ]


def _status(summary: CampaignSummary, now: datetime) -> str:
    if summary.status in ("published", "archived"):
        return CAMPAIGN_STATUSES[summary.status]
    return CAMPAIGN_STATUSES["open" if is_current(summary, now) else "ended"]


def _timeline(page: Page, timeline: dict[Phase, Window]) -> dict[str, Any]:
    due = countdown(timeline, page.now)
    return {
        "countdown": due.text(page.now, page.speaker) if due else "",
        "due": written(due.moment, page.zone, page.speaker) if due else "",
        "line": line(timeline, page.now, page.zone, page.speaker),
    }


class SecretariatPages(Controller):
    path = "/{tenant:str}/secretariat"
    include_in_schema = False

    @get(
        "/campaigns",
        operation_id="portalSecretariatCampaigns",
        sync_to_thread=True,
        opt=access(READERS),
    )
    def campaigns(
        self, request: Request[Any, Any, Any], views: NamedDependency[TenantViews]
    ) -> Template:
        """The tenant's campaigns, newest first, each with its phases on a line with today."""
        page = Page(request, views.runtime.tenant)
        code = views.runtime.tenant.code
        cards = []
        for summary in list_campaigns(views.db("campaign_list")):
            cards.append(
                {
                    "summary": summary,
                    "programme": labels.programme(page.speaker, summary.programme),
                    "desk": f"/{code}/secretariat/campaigns/{summary.campaign_id}",
                    "status": page.speaker.gettext(_status(summary, page.now)),
                    **_timeline(page, timeline_of(summary)),
                }
            )
        return page.render("secretariat/campaigns.html", cards=cards)

    @get(
        "/campaigns/{campaign_id:uuid}",
        operation_id="portalCampaignDesk",
        sync_to_thread=True,
        opt=access(READERS),
    )
    def campaign_desk(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        views: NamedDependency[TenantViews],
        reminded: Annotated[int | None, QueryParameter(ge=0, le=100000)] = None,
        recipients: Annotated[int | None, QueryParameter(ge=0, le=100000)] = None,
        unreached: Annotated[int | None, QueryParameter(ge=0, le=100000)] = None,
    ) -> Template:
        page = Page(request, views.runtime.tenant)
        found = desk(views, campaign_id)
        return page.render(
            "secretariat/desk.html",
            **self._context(page, views, found),
            reminded=reminded,
            recipients=recipients,
            unreached=unreached,
        )

    @get(
        "/campaigns/{campaign_id:uuid}/counts",
        operation_id="portalCampaignDeskCounts",
        sync_to_thread=True,
        opt=access(READERS),
    )
    def counts_part(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        views: NamedDependency[TenantViews],
    ) -> Template:
        """The counts alone, which the desk refreshes every minute (htmx)."""
        page = Page(request, views.runtime.tenant)
        context = page.context(self._context(page, views, desk(views, campaign_id)))
        return HTMXTemplate(template_name="secretariat/_counts.html", context=context)

    @post(
        "/campaigns/{campaign_id:uuid}/reminders",
        operation_id="portalRemindLateUnits",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
    )
    def remind(
        self,
        campaign_id: FromPath[UUID],
        views: NamedDependency[TenantViews],
        auth: NamedDependency[Auth],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        """Mail the late units (through the outbox) and record it on the campaign."""
        done = remind_late_units(views, auth, campaign_id, actor)
        return Redirect(
            f"/{views.runtime.tenant.code}/secretariat/campaigns/{campaign_id}"
            f"?reminded={done.units}&recipients={done.recipients}"
            f"&unreached={len(done.without_account)}#late",
            status_code=303,
        )

    @staticmethod
    def _context(page: Page, views: TenantViews, found: Desk) -> dict[str, Any]:
        campaign: Campaign = found.campaign
        tenant = views.runtime.tenant
        speaker = page.speaker
        names = {u.code: u.name_zh for u in tenant.recommending_units}
        viewer = page.viewer
        return {
            "campaign": campaign,
            "programme": labels.programme(speaker, campaign.programme),
            "stages": [(key, speaker.gettext(label)) for key, label in STAGES.items()],
            "totals": found.totals.counts,
            "units": [(names.get(u.code or "", u.code), u.counts) for u in found.units],
            "reports": [(key, speaker.gettext(REPORT_NAMES[key])) for key in REPORTS],
            "late": [
                {
                    "code": u.code,
                    "name": u.name,
                    "missing": {key: key in u.missing for key in REPORTS},
                }
                for u in found.late
            ],
            "below": [
                {"name": name or count.credit_code, "count": count}
                for count, name in found.below_minimum
            ],
            "minimum": campaign.rules.results_per_applicant_min,
            "blocking": campaign.rules.results_per_applicant_min_blocking,
            "submission_closes": (
                written(campaign.timeline[Phase.SUBMISSION].closes_at, page.zone, speaker)
                if Phase.SUBMISSION in campaign.timeline
                else ""
            ),
            "deadlines": deadlines(page, campaign.timeline, page.now),
            "may_remind": bool(
                viewer and viewer.principal and Role.SECRETARIAT in viewer.principal.roles
            )
            and campaign.status != "archived",
            "back": f"/{tenant.code}/secretariat/campaigns",
            "action": f"/{tenant.code}/secretariat/campaigns/{campaign.id}/reminders",
            "counts_part": f"/{tenant.code}/secretariat/campaigns/{campaign.id}/counts",
            "statistics": f"/api/v1/tenants/{tenant.code}/campaigns/{campaign.id}/statistics",
            **_timeline(page, campaign.timeline),
        }
