"""The secretariat's phase control in the browser (ADR 0035): a campaign's phases with their
windows and state; per phase the acts allowed now (close now, open now, reopen, reschedule,
extend), each a two-step form — preview what changes and who is affected, then confirm — and the
rules amended with a reason, each changed rule shown before → after.

The same commands as `api/campaigns/routes.py`, the ledger's; the preview runs the campaign's own command
on a copy of the campaign that is never saved, so a refusal is the domain's, shown beside the
field, and nothing is stored until the confirmation."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect, Template

from aggregates.actor import Actor, Role
from aggregates.campaign import Campaign, Phase, ScoreAggregation, Takes, Window, rule_kinds
from aggregates.problems import Problem
from api.platform.access import access, only
from api.platform.errors import RequestProblem
from api.portal import labels
from api.portal.clock import written
from api.portal.errors import FormState
from api.portal.i18n import Speaker
from api.portal.labels import N_
from api.portal.rendering import Page
from projections.campaign_figures import campaign_figures
from projections.service import TenantViews
from projections.submission_list import list_submissions

SECRETARIAT = only(Role.SECRETARIAT)
REASON_MAX = 500
"""As the domain's reasons (`_text_problems` in aggregates/campaign.py)."""

ACTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "close": (N_("立即截止"), ()),
    "open": (N_("立即开始"), ("closes_at",)),
    "reopen": (N_("重新开放"), ("until",)),
    "extend": (N_("延期"), ("until",)),
    "reschedule": (N_("改期"), ("opens_at", "closes_at")),
}
"""Each act: its name and the moments it asks for (besides the reason)."""
ALLOWED = {
    "not_opened": ("open", "reschedule"),
    "open": ("close", "extend", "reschedule"),
    "closed": ("reopen",),
}
"""The acts offered for a phase in each state; whether one may be done now is the domain's to
say (the preview shows its refusal)."""
REASONED = ("close", "open", "reopen", "extend")
"""Acts whose event records a reason (a reschedule records the new window alone)."""
MOMENT_LABELS = {
    "closes_at": N_("截止时间"),
    "opens_at": N_("开始时间"),
    "until": N_("新的截止时间"),
}
STATES = {
    "not_opened": N_("未开始"),
    "open": N_("进行中"),
    "closed": N_("已结束"),
}
RULE_LABELS = {
    "results_per_applicant_min": N_("每家申报单位至少申报的成果数"),
    "results_per_applicant_max": N_("每家申报单位最多申报的成果数"),
    "distinct_topic_types": N_("一家单位的多个成果课题类型须有差异"),
    "recommendations_per_applicant_max": N_("推荐单位对每家申报单位推荐的成果数上限"),
    "recommending_unit_quota": N_("每个推荐单位推荐总名额"),
    "members_max": N_("小组成员人数上限"),
    "intro_min_chars": N_("小组简介最少字数"),
    "intro_max_chars": N_("小组简介最多字数"),
    "team_report_max_chars": N_("班组材料最多字数"),
    "evaluation_max_chars": N_("推荐评价最多字数"),
    "work_summary_min_chars": N_("工作总结最少字数"),
    "accident_free_years": N_("无事故年限"),
    "score_max": N_("评分满分"),
    "score_aggregation": N_("评分汇总方式"),
    "max_mb_application_form": N_("盖章申报表大小上限（MB）"),
    "max_mb_report": N_("成果报告大小上限（MB）"),
    "max_mb_slides": N_("发表PPT大小上限（MB）"),
    "max_mb_video": N_("发表视频大小上限（MB）"),
    "max_mb_evidence": N_("证实性材料大小上限（MB）"),
}
AGGREGATIONS = {
    ScoreAggregation.MEAN: N_("平均分"),
    ScoreAggregation.TRIMMED_MEAN: N_("去掉最高最低分后平均"),
}
ENGLISH = {
    "depends_on_open": N_("它所依赖的阶段尚未结束（见各阶段时间）"),
    "dependent_started": N_("依赖它的阶段已经接手，不能再重新开放"),
    "before_dependent": N_("不得晚于依赖它的阶段接手的时间"),
    "already_closed": N_("该阶段已截止：如需重新开放请使用“重新开放”并说明理由"),
    "already_opened": N_("该阶段已经开始"),
    "not_opened": N_("该阶段尚未开始：请改期或立即开始"),
    "not_closed": N_("只有已截止的阶段才能重新开放"),
    "in_future": N_("须晚于当前时间"),
    "later_than_deadline": N_("须晚于原截止时间"),
    "window_order": N_("截止时间须晚于开始时间"),
    "datetime": N_("请填写日期和时间（年-月-日 时:分）"),
    "filing_opened": N_("申报已开始，规则不能再修改"),
    "type": N_("须为正整数"),
    "positive": N_("须为正整数"),
    "min_le_max": N_("不得小于下限"),
}
"""The English of the refusals these pages show, by rule (in Chinese: the domain's own words)."""


def _english(speaker: Speaker, problems: tuple[Problem, ...]) -> dict[str, Any]:
    if not speaker.english:
        return {}
    return {
        "messages": {
            p.rule: speaker.gettext(ENGLISH[p.rule]) for p in problems if p.rule in ENGLISH
        }
    }


def _moment(raw: str, field: str, zone: ZoneInfo, problems: list[Problem]) -> datetime | None:
    """A datetime-local value (2024-07-25T22:00) read in the tenant's zone."""
    text = raw.strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        problems.append(Problem(field, "datetime", "请填写日期和时间（年-月-日 时:分）"))
        return None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)


def _local(moment: datetime | None, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if moment else ""


class PhaseContext:
    """One campaign's phase-control pages: its campaign, base path and the reader's words."""

    def __init__(self, page: Page, views: TenantViews, campaign_id: UUID) -> None:
        self.page, self.views = page, views
        self.ledger = views.runtime.ledger
        self.campaign = self.ledger.get_campaign(campaign_id)  # not found: a 404 page
        self.tenant = views.runtime.tenant
        self.zone = self.tenant.zone
        self.base = f"/{self.tenant.code}/secretariat/campaigns/{campaign_id}"
        self.now = self.ledger.clock()

    def when(self, moment: datetime | None) -> str:
        speaker = self.page.speaker
        return written(moment, self.zone, speaker) if moment else speaker.gettext("活动开始")

    def state(self, campaign: Campaign, phase: Phase) -> str:
        return campaign.phase_state(phase, self.now)

    def phases(self) -> list[dict[str, Any]]:
        speaker = self.page.speaker
        rows = []
        for phase, window in self.campaign.timeline.items():
            state = self.state(self.campaign, phase)
            rows.append(
                {
                    "phase": str(phase),
                    "name": labels.phase(speaker, phase),
                    "opens": self.when(window.opens_at),
                    "closes": self.when(window.closes_at),
                    "state": state,
                    "state_name": speaker.gettext(STATES[state]),
                    "acts": [
                        {
                            "act": act,
                            "name": speaker.gettext(ACTS[act][0]),
                            "href": f"{self.base}/phases/{phase}/{act}",
                        }
                        for act in ALLOWED[state]
                    ],
                    "depends_on": "、".join(
                        labels.phase(speaker, p) for p in self.campaign.depends_on(phase)
                    ),
                }
            )
        return rows

    def common(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign,
            "base": self.base,
            "now_written": written(self.now, self.zone, self.page.speaker),
        }

    # Who is affected when a phase moves: the counts the read models hold.

    def affected(self, phase: Phase) -> list[dict[str, Any]]:
        speaker = self.page.speaker
        found: list[dict[str, Any]] = []
        if phase in (Phase.REGISTRATION, Phase.SUBMISSION):
            figures = campaign_figures(self.views.db("campaign_statistics"), str(self.campaign.id))
            registrations = figures.totals.figures.registrations if figures else 0
            found.append(
                {"label": speaker.gettext("已报名的小组/班组"), "value": registrations or 0}
            )
        if phase is Phase.SUBMISSION:
            drafts = list_submissions(
                self.views.db("submission_list"),
                self.campaign.id,
                filters={"status": "draft"},
                include_drafts=True,
                limit=100_000,
            )
            found.append(
                {
                    "label": speaker.gettext("尚未提交的草稿（截止后不能再提交）"),
                    "value": len(drafts),
                    "key": "drafts",
                }
            )
        if phase in (Phase.RECOMMENDATION, Phase.FORMAL_REVIEW):
            unfiled = [
                unit.name_zh
                for unit in self.tenant.recommending_units
                if (form := self.ledger.find_recommendation(self.campaign.id, unit.code)) is None
                or form.filed_at is None
            ]
            found.append(
                {
                    "label": speaker.gettext("尚未报送推荐表的推荐单位"),
                    "value": len(unfiled),
                    "names": unfiled,
                    "key": "unfiled",
                }
            )
        for dependent, takes in self.campaign.dependents(phase).items():
            how = (
                speaker.gettext("在它结束后开始")
                if takes is Takes.AFTER
                else speaker.gettext("与它同时进行，不早于它结束")
            )
            found.append(
                {
                    "label": speaker.gettext("依赖它的阶段"),
                    "value": f"{labels.phase(speaker, dependent)}（{how}）",
                }
            )
        return found


class PhaseForm:
    """An act's form as read from the request: the reason and the moments, each kept as typed."""

    def __init__(self, act: str, data: Mapping[str, Any], zone: ZoneInfo) -> None:
        self.act = act
        self.values = {name: str(data.get(name, "")) for name in ("reason", *ACTS[act][1])}
        self.version = str(data.get("version", ""))
        self.problems: list[Problem] = []
        self.moments = {
            name: _moment(self.values[name], name, zone, self.problems) for name in ACTS[act][1]
        }
        self.reason = self.values["reason"].strip()
        if len(self.reason) > REASON_MAX:
            self.problems.append(Problem("reason", "too_long", "原因不超过 500 字"))

    def check(self) -> None:
        if self.problems:
            raise RequestProblem(422, *self.problems)

    def required(self, name: str) -> datetime:
        moment = self.moments.get(name)
        if moment is None:
            raise RequestProblem(422, Problem(name, "required", "不能为空"))
        return moment

    def on_campaign(self, phase: Phase, at: datetime, actor: Actor) -> Callable[[Campaign], None]:
        """The act as the campaign's own command (for the preview, on a copy)."""
        act = self.act
        if act == "close":
            return lambda c: c.close_phase_now(phase, self.reason, at, actor)
        if act == "open":
            closes_at = self.moments.get("closes_at")
            return lambda c: c.open_phase_now(phase, self.reason, at, actor, closes_at)
        if act == "reopen":
            until = self.required("until")
            return lambda c: c.reopen_phase(phase, until, self.reason, at, actor)
        if act == "extend":
            until = self.required("until")
            return lambda c: c.extend_deadline(phase, until, self.reason, at, actor)
        window = Window(self.moments.get("opens_at"), self.required("closes_at"))
        return lambda c: c.reschedule_phase(phase, window, at, actor)

    def on_ledger(self, context: PhaseContext, phase: Phase, actor: Actor) -> None:
        """The act as the ledger's command (the confirmation), at the version previewed."""
        ledger, cid = context.ledger, context.campaign.id
        version = int(self.version) if self.version.isdigit() else None
        act = self.act
        if act == "close":
            ledger.close_phase_now(cid, phase, self.reason, actor, version)
        elif act == "open":
            closes_at = self.moments.get("closes_at")
            ledger.open_phase_now(cid, phase, self.reason, actor, closes_at, version)
        elif act == "reopen":
            ledger.reopen_phase(cid, phase, self.required("until"), self.reason, actor, version)
        elif act == "extend":
            ledger.extend_deadline(cid, phase, self.required("until"), self.reason, actor, version)
        else:
            window = Window(self.moments.get("opens_at"), self.required("closes_at"))
            ledger.reschedule_phase(cid, phase, window, actor, version)


def _act(act: str) -> str:
    if act not in ACTS:
        raise RequestProblem(404, Problem("act", "not_found", "未找到"))
    return act


def _phase(value: str) -> Phase:
    try:
        return Phase(value)
    except ValueError:
        raise RequestProblem(404, Problem("phase", "not_found", "未找到")) from None


FormBody = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


class PhasePages(Controller):
    path = "/{tenant:str}/secretariat/campaigns/{campaign_id:uuid}"
    include_in_schema = False

    @get("/phases", operation_id="portalPhases", sync_to_thread=True, opt=access(SECRETARIAT))
    def phases(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        views: NamedDependency[TenantViews],
        done: Annotated[str | None, QueryParameter(max_length=20)] = None,
    ) -> Template:
        page = Page(request, views.runtime.tenant)
        context = PhaseContext(page, views, campaign_id)
        return page.render(
            "phases/index.html",
            **context.common(),
            phases=context.phases(),
            done=page.speaker.gettext(ACTS[done][0]) if done in ACTS else "",
            amended=done == "rules",
        )

    def _form_context(self, context: PhaseContext, phase: Phase, act: str) -> dict[str, Any]:
        speaker = context.page.speaker
        window = context.campaign.window(phase)
        state = context.state(context.campaign, phase)
        return {
            **context.common(),
            "phase": str(phase),
            "phase_name": labels.phase(speaker, phase),
            "act": act,
            "act_name": speaker.gettext(ACTS[act][0]),
            "moments": [(n, speaker.gettext(MOMENT_LABELS[n])) for n in ACTS[act][1]],
            "reasoned": act in REASONED,
            "window": {
                "opens": context.when(window.opens_at),
                "closes": context.when(window.closes_at),
            },
            "state_name": speaker.gettext(STATES.get(state, STATES["not_opened"])),
            "version": context.campaign.version,
            "affected": context.affected(phase),
            "preview": None,
        }

    @get(
        "/phases/{phase:str}/{act:str}",
        operation_id="portalPhaseAct",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
    )
    def act_form(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        phase: FromPath[str],
        act: FromPath[str],
        views: NamedDependency[TenantViews],
    ) -> Template:
        """Step 1: the act's form, the phase's window as it is and who it touches."""
        page = Page(request, views.runtime.tenant)
        context = PhaseContext(page, views, campaign_id)
        chosen, name = _phase(phase), _act(act)
        window = context.campaign.window(chosen)
        values = {
            "reason": "",
            "closes_at": _local(window.closes_at, context.zone),
            "opens_at": _local(window.opens_at, context.zone),
            "until": _local(window.closes_at, context.zone),
        }
        return page.render(
            "phases/act.html",
            **self._form_context(context, chosen, name),
            values=values,
            problems={},
            general_problems=[],
        )

    def _read(
        self,
        request: Request[Any, Any, Any],
        views: NamedDependency[TenantViews],
        campaign_id: UUID,
        phase: str,
        act: str,
        data: dict[str, Any],
    ) -> tuple[Page, PhaseContext, Phase, PhaseForm]:
        page = Page(request, views.runtime.tenant)
        context = PhaseContext(page, views, campaign_id)
        chosen, name = _phase(phase), _act(act)
        form = PhaseForm(name, data, context.zone)
        request.state.form = FormState(
            template="phases/act.html",
            fields=("reason", *ACTS[name][1]),
            values=form.values,
            context=self._form_context(context, chosen, name),
            page=page,
            on_refusal=lambda problems: _english(page.speaker, problems),
        )
        form.check()
        return page, context, chosen, form

    @post(
        "/phases/{phase:str}/{act:str}/preview",
        operation_id="portalPhaseActPreview",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
        status_code=200,
    )
    def preview(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        phase: FromPath[str],
        act: FromPath[str],
        data: FormBody,
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
    ) -> Template:
        """Step 2: the campaign's own command run on a copy never saved; what it changes."""
        page, context, chosen, form = self._read(request, views, campaign_id, phase, act, data)
        trial = copy.deepcopy(context.campaign)
        form.on_campaign(chosen, context.now, actor)(trial)
        trial.collect_events()
        before, after = context.campaign.window(chosen), trial.window(chosen)
        speaker = page.speaker
        changes = [
            {
                "label": speaker.gettext("开始"),
                "before": context.when(before.opens_at),
                "after": context.when(after.opens_at),
                "changed": before.opens_at != after.opens_at,
            },
            {
                "label": speaker.gettext("截止"),
                "before": context.when(before.closes_at),
                "after": context.when(after.closes_at),
                "changed": before.closes_at != after.closes_at,
            },
            {
                "label": speaker.gettext("状态"),
                "before": speaker.gettext(STATES[context.state(context.campaign, chosen)]),
                "after": speaker.gettext(STATES[context.state(trial, chosen)]),
                "changed": context.state(context.campaign, chosen) != context.state(trial, chosen),
            },
        ]
        return page.render(
            "phases/act.html",
            **{**self._form_context(context, chosen, form.act), "preview": changes},
            values=form.values,
            problems={},
            general_problems=[],
        )

    @post(
        "/phases/{phase:str}/{act:str}",
        operation_id="portalPhaseActConfirm",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
    )
    def confirm(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        phase: FromPath[str],
        act: FromPath[str],
        data: FormBody,
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        """Confirmed: the ledger's command, at the version the preview showed."""
        _, context, chosen, form = self._read(request, views, campaign_id, phase, act, data)
        form.on_ledger(context, chosen, actor)
        return Redirect(f"{context.base}/phases?done={form.act}", status_code=303)

    # Rules: amended with a reason, each changed rule before → after.

    def _rules_context(self, context: PhaseContext) -> dict[str, Any]:
        speaker = context.page.speaker
        rules = context.campaign.rules.to_state()
        kinds = rule_kinds()
        return {
            **context.common(),
            "rules": [
                {
                    "name": name,
                    "label": speaker.gettext(RULE_LABELS.get(name, name)),
                    "kind": kinds[name][0].__name__,
                    "optional": kinds[name][1],
                    "current": _rule_text(speaker, rules[name]),
                    "choices": [
                        (str(a), speaker.gettext(AGGREGATIONS[a])) for a in ScoreAggregation
                    ],
                }
                for name in rules
            ],
            "version": context.campaign.version,
            "preview": None,
        }

    @get("/rules", operation_id="portalRules", sync_to_thread=True, opt=access(SECRETARIAT))
    def rules_form(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        views: NamedDependency[TenantViews],
    ) -> Template:
        page = Page(request, views.runtime.tenant)
        context = PhaseContext(page, views, campaign_id)
        current = context.campaign.rules.to_state()
        return page.render(
            "phases/rules.html",
            **self._rules_context(context),
            values={f"rules.{k}": _rule_value(v) for k, v in current.items()} | {"reason": ""},
            problems={},
            general_problems=[],
        )

    def _read_rules(
        self,
        request: Request[Any, Any, Any],
        views: TenantViews,
        campaign_id: UUID,
        data: dict[str, Any],
    ) -> tuple[Page, PhaseContext, dict[str, Any], str, int | None]:
        page = Page(request, views.runtime.tenant)
        context = PhaseContext(page, views, campaign_id)
        current = context.campaign.rules.to_state()
        values = {f"rules.{k}": str(data.get(f"rules.{k}", "")) for k in current}
        reason = str(data.get("reason", ""))
        values["reason"] = reason
        request.state.form = FormState(
            template="phases/rules.html",
            fields=("reason", *values),
            values=values,
            context=self._rules_context(context),
            page=page,
            on_refusal=lambda problems: _english(page.speaker, problems),
        )
        problems: list[Problem] = []
        changes = {}
        kinds = rule_kinds()
        for name, now in current.items():
            typed = _parse_rule(name, values[f"rules.{name}"], kinds[name], problems)
            if typed is not _INVALID and typed != now:
                changes[name] = typed
        if problems:
            raise RequestProblem(422, *problems)
        version = str(data.get("version", ""))
        return page, context, changes, reason, int(version) if version.isdigit() else None

    @post(
        "/rules/preview",
        operation_id="portalRulesPreview",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
        status_code=200,
    )
    def rules_preview(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        data: FormBody,
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
    ) -> Template:
        page, context, changes, reason, _ = self._read_rules(request, views, campaign_id, data)
        trial = copy.deepcopy(context.campaign)
        trial.amend_rules(changes, reason, context.now, actor)
        trial.collect_events()
        before, after = context.campaign.rules.to_state(), trial.rules.to_state()
        speaker = page.speaker
        form = request.state.form
        return page.render(
            "phases/rules.html",
            **{
                **self._rules_context(context),
                "preview": [
                    {
                        "label": speaker.gettext(RULE_LABELS.get(name, name)),
                        "before": _rule_text(speaker, before[name]),
                        "after": _rule_text(speaker, after[name]),
                    }
                    for name in changes
                ],
            },
            values=form.values,
            problems={},
            general_problems=[],
        )

    @post("/rules", operation_id="portalRulesConfirm", sync_to_thread=True, opt=access(SECRETARIAT))
    def rules_confirm(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        data: FormBody,
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        _, context, changes, reason, version = self._read_rules(request, views, campaign_id, data)
        context.ledger.amend_rules(context.campaign.id, changes, reason, actor, version)
        return Redirect(f"{context.base}/phases?done=rules", status_code=303)


_INVALID = object()


def _rule_value(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else ""
    return "" if value is None else str(value)


def _rule_text(speaker: Speaker, value: Any) -> str:
    if isinstance(value, bool):
        return speaker.gettext("是") if value else speaker.gettext("否")
    if value is None:
        return speaker.gettext("不限")
    if isinstance(value, ScoreAggregation) or value in set(ScoreAggregation):
        return speaker.gettext(AGGREGATIONS[ScoreAggregation(value)])
    return str(value)


def _parse_rule(name: str, raw: str, kind: tuple[type, bool], problems: list[Problem]) -> Any:
    """A rule's value as typed in the form (a checkbox, a whole number, a choice); the domain
    checks it (`CampaignRules.amended`)."""
    declared, optional = kind
    text = raw.strip()
    if declared is bool:
        return text in ("1", "on", "true")
    if declared is ScoreAggregation:
        return text
    if not text:
        if optional:
            return None
        problems.append(Problem(f"rules.{name}", "required", "不能为空"))
        return _INVALID
    if not text.lstrip("-").isdigit():
        problems.append(Problem(f"rules.{name}", "type", "须为正整数"))
        return _INVALID
    return int(text)
