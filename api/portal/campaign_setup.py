"""The secretariat opens a campaign in the browser (开设活动): from last year's campaign of the
programme (its rules, its timeline shifted a year) or from the seeds' defaults; every rule and
phase window edited in a form laid out in sections (Beijing time); a preview of what will be
opened with its timeline drawn; then opened by the same ledger command as `POST …/campaigns`
(`api/campaigns/routes.py`). A rehearsal (演练, ADR 36) is an option of the same form; its page deletes
it with a reason. Works without JavaScript: every action is a plain form post.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.concurrency import sync_to_thread
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from aggregates.actor import Actor, Role
from aggregates.campaign import Campaign, Phase, Programme
from aggregates.problems import Problem
from api.platform.access import access, only
from api.platform.security import CSRF_FIELD
from api.portal import labels
from api.portal.campaign_form import (
    AGGREGATIONS,
    OPTIONAL_RULES,
    RULE_SECTIONS,
    beside_field,
    command_fields,
    field_names,
    from_last_year,
    from_seeds,
    posted_values,
)
from api.portal.clock import line, written_day
from api.portal.errors import FormState
from api.portal.i18n import Speaker
from api.portal.labels import N_
from api.portal.rendering import Page
from projections.campaign_list import CampaignSummary, list_campaigns
from projections.service import TenantViews
from tenants.runtime import TenantRuntime

SECRETARIAT = only(Role.SECRETARIAT)
FORM = "campaign_setup/form.html"
PREVIEW = "campaign_setup/preview.html"
OPENED = "campaign_setup/opened.html"
MESSAGES = {
    # rule -> the catalog's message for English readers (the Chinese is the domain's own).
    "window_order": N_("截止时间须晚于开始时间"),
    "timezone_required": N_("时间须带时区（如 +08:00）"),
    "required": N_("不能为空"),
    "positive": N_("须为正整数"),
    "integer": N_("应为整数"),
    "min_le_max": N_("不得小于对应的下限"),
    "max_length": N_("内容过长"),
    "range": N_("年度应在 2000 至 2100 之间"),
    "period_order": N_("统计期结束不得早于开始"),
    "date": N_("日期格式不正确"),
    "datetime": N_("时间格式不正确（如 2025-07-25 22:00）"),
    "one_campaign_per_year": N_("该年度的该项活动已开设"),
    "one_rehearsal_per_year": N_("该年度的该项活动已有演练，删除后才能再开演练"),
    "email_format": N_("邮箱格式不正确"),
    "postcode_format": N_("邮编应为 6 位数字"),
    "not_in_list": N_("请从列表中选择"),
    "not_a_rehearsal": N_("只有演练活动可以删除；正式活动只能归档"),
    "deleted": N_("演练活动已删除"),
}


def problem_text(speaker: Speaker, problem: Problem) -> str:
    if not speaker.english:
        return problem.message
    known = MESSAGES.get(problem.rule)
    return speaker.gettext(known) if known else labels.problem(speaker, problem)


def placed(speaker: Speaker, problems: tuple[Problem, ...] | list[Problem]) -> dict[str, Any]:
    """Each problem beside its field; a problem of no field on the form above it."""
    names = {*field_names(), "co_organisers", "timeline", "reason"}
    beside: dict[str, list[str]] = {}
    above: list[str] = []
    for problem in problems:
        name = beside_field(problem)
        if name in names:
            beside.setdefault(name, []).append(problem_text(speaker, problem))
        else:
            above.append(problem_text(speaker, problem))
    return {"beside": beside, "above": above}


def _previous(summaries: list[CampaignSummary], programme: str, year: int) -> str | None:
    """The real campaign of the programme in `year`, from the campaign list."""
    found = [
        s for s in summaries if s.programme == programme and s.year == year and not s.rehearsal
    ]
    return found[0].campaign_id if found else None


def _form_context(page: Page, runtime: TenantRuntime, form: dict[str, str]) -> dict[str, Any]:
    speaker = page.speaker
    programme = Programme(form["programme"])
    return {
        "form": form,
        "programme_name": labels.programme(speaker, programme),
        "csrf_field": CSRF_FIELD,
        "rule_sections": [
            (
                speaker.gettext(title),
                [
                    {
                        "name": f"rules.{name}",
                        "label": speaker.gettext(label),
                        "kind": (
                            "bool"
                            if name == "distinct_topic_types"
                            else "choice"
                            if name == "score_aggregation"
                            else "int"
                        ),
                        "optional": name in OPTIONAL_RULES,
                    }
                    for name, label in rules
                ],
            )
            for title, rules in RULE_SECTIONS
        ],
        "aggregations": [(a.value, speaker.gettext(text)) for a, text in AGGREGATIONS.items()],
        "phases": [(phase.value, labels.phase(speaker, phase)) for phase in Phase],
        "action": f"/{runtime.tenant.code}/secretariat/campaigns/new",
        "source": "",
        "beside": {},
        "above": [],
    }


def _form_state(page: Page, runtime: TenantRuntime, form: dict[str, str]) -> FormState:
    context = _form_context(page, runtime, form)

    def on_refusal(problems: tuple[Problem, ...]) -> dict[str, Any]:
        return placed(page.speaker, problems)

    return FormState(FORM, (), {}, context, page, on_refusal)


def _rules_shown(speaker: Speaker, campaign: Campaign) -> list[tuple[str, list[tuple[str, str]]]]:
    state = campaign.rules.to_state()

    def shown(name: str) -> str:
        value = state[name]
        if isinstance(value, bool):
            return speaker.gettext("是") if value else speaker.gettext("否")
        if value is None:
            return speaker.gettext("不限")
        if name == "score_aggregation":
            return next(speaker.gettext(t) for a, t in AGGREGATIONS.items() if a.value == value)
        return str(value)

    return [
        (speaker.gettext(title), [(speaker.gettext(label), shown(name)) for name, label in rules])
        for title, rules in RULE_SECTIONS
    ]


def _campaign_context(page: Page, runtime: TenantRuntime, campaign: Campaign) -> dict[str, Any]:
    speaker = page.speaker
    return {
        "campaign": campaign,
        "programme_name": labels.programme(speaker, campaign.programme),
        "period": (
            written_day(campaign.period_start, speaker),
            written_day(campaign.period_end, speaker),
        ),
        "line": line(campaign.timeline, page.now, page.zone, speaker),
        "key": "setup",
        "rules_shown": _rules_shown(speaker, campaign),
        "units": [u.name_zh for u in runtime.tenant.recommending_units],
        "csrf_field": CSRF_FIELD,
        "beside": {},
        "above": [],
    }


class CampaignSetupPages(Controller):
    path = "/{tenant:str}/secretariat/campaigns"
    include_in_schema = False

    @get("/new", operation_id="portalNewCampaign", sync_to_thread=True, opt=access(SECRETARIAT))
    def new_page(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        programme: FromQuery[Programme | None] = None,
        year: FromQuery[int | None] = None,
        start: FromQuery[str] = "last_year",
        deleted: FromQuery[str] = "",
    ) -> Template:
        """Where to start (a programme, a year, last year's or the seeds'), then the form."""
        page = Page(request, runtime.tenant)
        summaries = list_campaigns(views.db("campaign_list"))
        offered = [p for p in Programme if runtime.tenant.offers(p)]
        if programme is None or year is None or programme not in offered or not 2000 < year < 2101:
            return page.render(
                "campaign_setup/start.html",
                deleted=deleted,
                choices=[self._choice(page, summaries, p) for p in offered],
            )
        previous = _previous(summaries, programme.value, year - 1) if start != "seeds" else None
        if previous is not None:
            form = from_last_year(runtime.ledger.get_campaign(UUID(previous)), runtime.tenant.zone)
            form["year"] = str(year)
            source = page.speaker.gettext("以 %(year)s 年的活动为基础（时间顺延一年）") % {
                "year": year - 1
            }
        else:
            form = from_seeds(runtime.tenant, programme, year)
            source = page.speaker.gettext("以默认值为基础（种子通知中的规则与时间安排）")
        return page.render(FORM, **{**_form_context(page, runtime, form), "source": source})

    @staticmethod
    def _choice(page: Page, summaries: list[CampaignSummary], programme: Programme) -> Any:
        real = [s for s in summaries if s.programme == programme.value and not s.rehearsal]
        latest = max((s.year for s in real), default=None)
        return {
            "programme": programme.value,
            "name": labels.programme(page.speaker, programme),
            "latest": latest,
            "year": (latest + 1) if latest else page.now.year,
        }

    @post("/new", operation_id="portalOpenCampaign", opt=access(SECRETARIAT))
    async def open_or_preview(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
    ) -> Template | Redirect:
        data = await request.form()
        return await sync_to_thread(self._open_or_preview, request, runtime, views, actor, data)

    def _open_or_preview(
        self,
        request: Request[Any, Any, Any],
        runtime: TenantRuntime,
        views: TenantViews,
        actor: Actor,
        data: Any,
    ) -> Template | Redirect:
        page = Page(request, runtime.tenant)
        form = posted_values(data)
        if form["programme"] not in {p.value for p in Programme}:
            form["programme"] = Programme.QC_GROUP.value
        request.state.form = _form_state(page, runtime, form)
        action = data.get("action", "preview")
        if action == "edit":
            return page.render(FORM, **_form_context(page, runtime, form))
        fields = command_fields(form, runtime.tenant.zone)
        rehearsal = form["rehearsal"] == "on"
        if action != "open":
            campaign = runtime.ledger.preview_campaign(fields, actor, rehearsal)
            return page.render(
                PREVIEW,
                **_campaign_context(page, runtime, campaign),
                form=form,
                rehearsal=rehearsal,
                action=f"/{runtime.tenant.code}/secretariat/campaigns/new",
            )
        saved = runtime.ledger.open_campaign(**fields, actor=actor, rehearsal=rehearsal)
        views.wait(saved.position)  # the lists show it on the next page (read-your-writes)
        where = f"/{runtime.tenant.code}/secretariat/campaigns/{saved.aggregate.id}/setup"
        return Redirect(f"{where}?opened=1", status_code=303)

    @get(
        "/{campaign_id:uuid}/setup",
        operation_id="portalCampaignSetup",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
    )
    def opened(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        opened: FromQuery[str] = "",
    ) -> Template:
        """What was opened: its facts, timeline and rules; a rehearsal's delete form."""
        page = Page(request, runtime.tenant)
        campaign = runtime.ledger.get_campaign(campaign_id)
        context = _campaign_context(page, runtime, campaign)
        return page.render(OPENED, **context, just_opened=bool(opened), reason="")

    @post(
        "/{campaign_id:uuid}/delete-rehearsal",
        operation_id="portalDeleteRehearsal",
        opt=access(SECRETARIAT),
    )
    async def delete_rehearsal(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
    ) -> Template | Redirect:
        data = await request.form()
        reason = data.get("reason", "")
        reason = reason if isinstance(reason, str) else ""
        return await sync_to_thread(
            self._delete, request, campaign_id, runtime, views, actor, reason
        )

    def _delete(
        self,
        request: Request[Any, Any, Any],
        campaign_id: UUID,
        runtime: TenantRuntime,
        views: TenantViews,
        actor: Actor,
        reason: str,
    ) -> Redirect:
        page = Page(request, runtime.tenant)
        campaign = runtime.ledger.get_campaign(campaign_id)
        context = {
            **_campaign_context(page, runtime, campaign),
            "just_opened": False,
            "reason": reason,
        }

        def on_refusal(problems: tuple[Problem, ...]) -> dict[str, Any]:
            return placed(page.speaker, problems)

        request.state.form = FormState(OPENED, (), {}, context, page, on_refusal)
        views.wait(runtime.ledger.delete_rehearsal(campaign_id, reason, actor).position)
        title = campaign.title
        where = f"/{runtime.tenant.code}/secretariat/campaigns/new"
        return Redirect(where, query_params={"deleted": title}, status_code=303)
