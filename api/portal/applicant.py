"""The applicant's channel (班组通道 / 单位通道): 报名 for a campaign, 我的申报 (every result with
its step line, what is asked next and by when), a result's decisions with the certificate, the
unit's endorsement and withdrawing. The result forms themselves are `submission_forms.py`'s."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.concurrency import sync_to_thread
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from markupsafe import Markup

from aggregates.actor import Actor, Role
from aggregates.campaign import Campaign, Phase, Window
from aggregates.problems import Problem
from aggregates.registration import (
    Intent,
    Nature,
    Promoter,
    Registration,
    RegistrationForm,
    RegistrationNotFound,
)
from aggregates.submission import Submission, SubmissionStatus
from aggregates.submission_register import short_of_minimum
from api.forwarding.schemas import national_status_name
from api.platform.access import access, only
from api.platform.errors import RequestProblem
from api.platform.records import Records
from api.portal import labels
from api.portal.clock import span, written
from api.portal.forms import FormPage, stripped, version_of
from api.portal.public import timeline_of
from api.portal.rendering import Page, environment
from projections.campaign_list import CampaignSummary, list_campaigns
from projections.review_board import campaign_results
from projections.service import TenantViews
from projections.submission_list import FILED_STATUSES, OwnRow, own_submissions
from tenants.runtime import TenantRuntime

APPLICANT = only(Role.APPLICANT_UNIT)
N_ = labels.N_

STEPS = (
    ("draft", N_("草稿")),
    ("submitted", N_("已提交")),
    ("endorsed", N_("单位已推荐")),
    ("recommended", N_("推荐单位已推荐")),
    ("formal_review", N_("形式审查")),
    ("in_review", N_("评审中")),
    ("public_notice", N_("公示")),
    ("published", N_("已发布")),
    ("forwarded", N_("推荐全国")),
    ("national_result", N_("全国结果")),
)
STEP_INDEX = {code: i for i, (code, _) in enumerate(STEPS)}
STATUS_NOTES = {
    "returned": N_("退回修改"),
    "withdrawn": N_("已撤回"),
    "rejected": N_("形式审查未通过"),
}
NEXT = {
    "draft": (N_("完成成果表并提交"), Phase.SUBMISSION),
    "returned": (N_("按退回意见修改后重新提交"), Phase.SUBMISSION),
    "endorse": (N_("单位通道：出具单位意见（自我评价、推荐意见、评分）"), Phase.SUBMISSION),
    "published": (N_("下载证书"), None),
    "wait": (N_("暂无需要办理的事项，请等待下一环节"), None),
    "closed": (N_("无需办理"), None),
}
NATURES = {
    Nature.STATE_OWNED: N_("国有"),
    Nature.PRIVATE: N_("民营"),
    Nature.FOREIGN: N_("外资"),
    Nature.JOINT_VENTURE: N_("合资"),
    Nature.PUBLIC_INSTITUTION: N_("事业单位"),
    Nature.OTHER: N_("其他"),
}
INTENTS = {
    Intent.FIRST_TIME_NO_TOPIC: N_("首次参加活动，暂无课题申报"),
    Intent.CONTINUING_NO_TOPIC: N_("持续参加活动，暂无课题申报"),
    Intent.PROBLEM_SOLVING: N_("参加活动申报问题解决型课题"),
    Intent.INNOVATIVE: N_("参加活动申报创新型课题"),
}
DECISIONS = {
    "recommended": N_("已推荐"),
    "not_recommended": N_("未推荐"),
    "invalid": N_("推荐无效"),
    "pending": N_("尚未决定"),
}
FORMAL = {"passed": N_("通过"), "rejected": N_("未通过")}
TEXT_FIELDS = (
    "unit_name",
    "nature_other",
    "industries_other",
    "key_domain",
    "address",
    "postcode",
    "managing_department",
    "promoter.name",
    "promoter.department_and_title",
    "promoter.mobile",
    "promoter.email",
)
REGISTRATION_FIELDS = (*TEXT_FIELDS, "member_unit", "nature", "key_industries", "intents")
REFUSALS = (
    N_("请选择是否为会员单位"),
    N_("请选择单位性质"),
    N_("单位性质选“其他”时请注明"),
    N_("请至少选择一项重点产业或填写“其他”"),
    N_("请从本协会的重点领域中选择一项"),
    N_("邮编应为 6 位数字"),
    N_("手机号应为 11 位数字，以 1 开头"),
    N_("邮箱格式不正确"),
    N_("请至少选择一项申报意向"),
    N_("请从列出的申报意向中选择"),
    N_("评分应为数字"),
    N_("请勾选确认撤回"),
    N_("请说明撤回原因"),
    N_("成果申报后才能出具单位意见"),
    N_("申报已撤回"),
    N_("形式审查已完成，不能再撤回"),
    N_("记录正被他人同时修改，请稍后重试"),
    N_("本账号代表该单位的身份尚待核验（营业执照与授权委托书），核验通过后方可办理"),
)
"""The domain's refusals on these pages whose message is fixed: the catalog translates them as
they are (`labels.problem`); those carrying values are translated by their rule."""
MAX_LENGTH = 200
"""As the API's registration body (`Short`)."""


def stage_of(status: str, endorsed: bool, stage: str | None) -> int:
    """Where a result stands on the step line (index into STEPS)."""
    if stage in STEP_INDEX:
        return STEP_INDEX[str(stage)]
    if status == "draft":
        return STEP_INDEX["draft"]
    if status == "rejected":
        return STEP_INDEX["formal_review"]
    return STEP_INDEX["endorsed" if endorsed else "submitted"]


def next_action(status: str, endorsed: bool, stage: str | None) -> str:
    """What the platform asks of the applicant next (a key of NEXT)."""
    if status in ("withdrawn", "rejected"):
        return "closed"
    if status in ("draft", "returned"):
        return status
    if stage in ("published", "forwarded", "national_result"):
        return "published"
    if status == "submitted" and not endorsed and stage is None:
        return "endorse"
    return "wait"


@dataclass(frozen=True)
class Deadline:
    text: str
    left: str
    passed: bool


def deadline(window: Window | None, page: Page) -> Deadline | None:
    if window is None:
        return None
    left = window.closes_at - page.now
    return Deadline(
        written(window.closes_at, page.zone, page.speaker),
        page.speaker.gettext("还剩 %(span)s") % {"span": span(left, page.speaker)},
        left.total_seconds() <= 0,
    )


def step_line(page: Page, at: int, status: str) -> list[dict[str, Any]]:
    note = STATUS_NOTES.get(status)
    return [
        {
            "label": page.speaker.gettext(label),
            "state": "done" if i < at else "current" if i == at else "todo",
            "note": page.speaker.gettext(note) if note and i == at else "",
        }
        for i, (_, label) in enumerate(STEPS)
    ]


@dataclass(frozen=True, slots=True)
class Card:
    """One result on 我的申报 (attributes, not a dict: the template reads 15 of them a card)."""

    row: OwnRow
    title: str
    programme: str
    steps: Markup
    step: str
    note: str
    action: str
    action_href: str
    due: Deadline | None
    href: str


class Cards:
    """The cards of 我的申报, one per result. What cards share is worked out once per page, not
    once per row: the campaign's windows, each deadline (by phase), each step line (by where a
    result stands, rendered once as HTML: 300 results stand in a handful of places)."""

    def __init__(self, page: Page, tenant: str) -> None:
        self.page, self.tenant = page, tenant
        self.untitled = page.speaker.gettext("（未命名）")
        self._windows: dict[str, dict[Phase, Window]] = {}
        self._due: dict[tuple[str, Phase], Deadline | None] = {}
        self._lines: dict[tuple[int, str], Markup] = {}
        self._words: dict[str, str] = {}

    def card(self, row: OwnRow, summary: CampaignSummary | None) -> Card:
        at = stage_of(row.status, row.endorsed, row.stage)
        action = next_action(row.status, row.endorsed, row.stage)
        text, phase = NEXT[action]
        edit = f"/{self.tenant}/applicant/submissions/{row.submission_id}"
        note = STATUS_NOTES.get(row.status)
        return Card(
            row=row,
            title=row.title or self.untitled,
            programme=self._word(row.programme, labels.programme),
            steps=self._line(at, row.status),
            step=self._said(STEPS[at][1]),
            note=self._said(note) if note else "",
            action=self._said(text),
            action_href=edit
            if action in ("draft", "returned")
            else f"/{self.tenant}/applicant/results/{row.submission_id}"
            if action in ("endorse", "published")
            else "",
            due=self._deadline(summary, phase) if phase else None,
            href=f"/{self.tenant}/applicant/results/{row.submission_id}",
        )

    def _said(self, message: str) -> str:
        if message not in self._words:
            self._words[message] = self.page.speaker.gettext(message)
        return self._words[message]

    def _word(self, code: str, label: Any) -> str:
        key = f"\0{code}"
        if key not in self._words:
            self._words[key] = label(self.page.speaker, code)
        return self._words[key]

    def _deadline(self, summary: CampaignSummary | None, phase: Phase) -> Deadline | None:
        if summary is None:
            return None
        key = (summary.campaign_id, phase)
        if key not in self._due:
            if summary.campaign_id not in self._windows:
                self._windows[summary.campaign_id] = timeline_of(summary)
            self._due[key] = deadline(self._windows[summary.campaign_id].get(phase), self.page)
        return self._due[key]

    def _line(self, at: int, status: str) -> Markup:
        """The step line as `applicant/_steps.html` renders it (the result page's too)."""
        key = (at, status)
        if key not in self._lines:
            template = environment().get_template("applicant/_steps.html")
            self._lines[key] = Markup(  # noqa: S704 (rendered by the autoescaping environment)
                template.render(
                    steps=step_line(self.page, at, status),
                    **self.page.speaker.template_callables(),
                )
            )
        return self._lines[key]


class RegistrationValues:
    """The 报名 form as posted: every value kept as typed, for showing again."""

    def __init__(self, form: Any) -> None:
        self.text = {name: str(form.get(name, "")).strip() for name in TEXT_FIELDS}
        self.member_unit = str(form.get("member_unit", ""))
        self.nature = str(form.get("nature", ""))
        self.key_industries = [str(v) for v in form.getall("key_industries", [])]
        self.intents = [str(v) for v in form.getall("intents", [])]
        self.version = str(form.get("version", ""))

    @classmethod
    def of(cls, registration: Registration | None) -> dict[str, Any]:
        if registration is None:
            return {
                "text": dict.fromkeys(TEXT_FIELDS, ""),
                "member_unit": "",
                "nature": "",
                "key_industries": [],
                "intents": [],
                "version": "",
            }
        form = registration.form
        text = {
            "unit_name": form.unit_name,
            "nature_other": form.nature_other,
            "industries_other": form.industries_other,
            "key_domain": form.key_domain,
            "address": form.address,
            "postcode": form.postcode,
            "managing_department": form.managing_department,
            "promoter.name": form.promoter.name,
            "promoter.department_and_title": form.promoter.department_and_title,
            "promoter.mobile": form.promoter.mobile,
            "promoter.email": form.promoter.email,
        }
        return {
            "text": text,
            "member_unit": "yes" if form.member_unit else "no",
            "nature": form.nature.value,
            "key_industries": list(form.key_industries),
            "intents": [i.value for i in form.intents],
            "version": str(registration.version),
        }

    def shown(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "member_unit": self.member_unit,
            "nature": self.nature,
            "key_industries": self.key_industries,
            "intents": self.intents,
            "version": self.version,
        }

    def to_form(self, industries: set[str], domains: list[str]) -> RegistrationForm:
        """The domain's form; what cannot even be read (a choice not offered, a value too long)
        is refused here together with the domain's own problems of the rest."""
        found = [
            Problem(name, "too_long", f"不能超过 {MAX_LENGTH} 个字")
            for name, value in self.text.items()
            if len(value) > MAX_LENGTH
        ]
        if self.member_unit not in ("yes", "no"):
            found.append(Problem("member_unit", "required", "请选择是否为会员单位"))
        nature = Nature(self.nature) if self.nature in Nature.__members__.values() else None
        if nature is None:
            found.append(Problem("nature", "required", "请选择单位性质"))
        offered = set(Intent.__members__.values())
        if any(i not in offered for i in self.intents):
            found.append(Problem("intents", "not_in_list", "请从列出的申报意向中选择"))
        t = self.text
        form = RegistrationForm(
            unit_name=t["unit_name"],
            member_unit=self.member_unit == "yes",
            nature=nature or Nature.STATE_OWNED,
            nature_other=t["nature_other"] if nature is Nature.OTHER else "",
            key_industries=list(dict.fromkeys(self.key_industries)),
            industries_other=t["industries_other"],
            key_domain=t["key_domain"],
            address=t["address"],
            postcode=t["postcode"],
            managing_department=t["managing_department"],
            promoter=Promoter(
                name=t["promoter.name"],
                department_and_title=t["promoter.department_and_title"],
                mobile=t["promoter.mobile"],
                email=t["promoter.email"],
            ),
            intents=[Intent(i) for i in dict.fromkeys(self.intents) if i in offered],
        )
        if found:
            raise RequestProblem(422, *found, *form.problems(industries, domains))
        return form


def _existing(runtime: TenantRuntime, records: Records, campaign_id: UUID) -> Registration | None:
    registration_id = Registration.create_id(campaign_id, records.filing_code())
    try:
        return records.own_registration(runtime, registration_id)
    except RegistrationNotFound:
        return None


def _window_context(page: Page, campaign: Campaign) -> dict[str, Any]:
    """Whether the registration window is open now, and if not why (read-only then)."""
    window = campaign.timeline.get(Phase.REGISTRATION)
    if campaign.archived or window is None:
        reason = page.speaker.gettext("本活动当前不接受报名")
        return {"editable": False, "closed_reason": reason, "window": ""}
    opened = window.opens_at is None or window.opens_at <= page.now
    shown = written(window.closes_at, page.zone, page.speaker)
    if window.is_open(page.now):
        return {"editable": True, "closed_reason": "", "window": shown}
    reason = (
        page.speaker.gettext("报名已截止（截止时间：%(at)s），报名表只读")
        if opened
        else page.speaker.gettext("报名尚未开始，报名表只读")
    ) % {"at": shown}
    return {"editable": False, "closed_reason": reason, "window": shown}


def _registration_context(page: Page, runtime: TenantRuntime, campaign: Campaign) -> dict[str, Any]:
    tenant = runtime.tenant
    return {
        "campaign": campaign,
        "natures": [(n.value, page.speaker.gettext(label)) for n, label in NATURES.items()],
        "intents_offered": [(i.value, page.speaker.gettext(label)) for i, label in INTENTS.items()],
        "industry_groups": tenant.key_industries,
        "domains": tenant.key_domains,
        **_window_context(page, campaign),
    }


class ApplicantPages(Controller):
    path = "/{tenant:str}/applicant"
    include_in_schema = False

    @get("/", operation_id="portalMyResults", sync_to_thread=True, opt=access(APPLICANT))
    def my_results(
        self,
        request: Request[Any, Any, Any],
        records: NamedDependency[Records],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
    ) -> Template:
        """我的申报 across campaigns: the campaigns with their results, and 报名 for each."""
        return self._results_page(request, records, runtime, views, None, None)

    @get(
        "/campaigns/{campaign_id:uuid}",
        operation_id="portalMyCampaignResults",
        sync_to_thread=True,
        opt=access(APPLICANT),
    )
    def my_campaign_results(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        records: NamedDependency[Records],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
    ) -> Template:
        """我的申报 of one campaign."""
        campaign = runtime.ledger.get_campaign(campaign_id)  # 404 for no such campaign
        return self._results_page(request, records, runtime, views, campaign_id, campaign)

    @staticmethod
    def _results_page(
        request: Request[Any, Any, Any],
        records: Records,
        runtime: TenantRuntime,
        views: TenantViews,
        campaign_id: UUID | None,
        campaign: Campaign | None,
    ) -> Template:
        """The cards of one campaign (`campaign`, loaded once) or of every campaign."""
        page = Page(request, runtime.tenant)
        scope = records.list_scope(None)
        owner = scope.owner or (frozenset(), records.account_id)  # the route is the applicant's
        rows = own_submissions(views.db("submission_list"), owner, campaign_id)
        summaries = {
            s.campaign_id: s
            for s in list_campaigns(views.db("campaign_list"))
            if campaign_id is None or s.campaign_id == str(campaign_id)
        }
        code = runtime.tenant.code
        cards = Cards(page, code)
        groups = []
        for key, summary in summaries.items():
            mine = [cards.card(r, summary) for r in rows if r.campaign_id == key]
            if campaign_id is None and not mine and summary.status == "archived":
                continue
            windows = timeline_of(summary)
            open_now = {
                phase: phase in windows and windows[phase].is_open(page.now)
                for phase in (Phase.REGISTRATION, Phase.SUBMISSION)
            }
            short = (  # the least number of results (issue 23), shown before the window closes
                short_of_minimum(
                    campaign or runtime.ledger.get_campaign(UUID(key)),
                    Counter(c.row.credit_code for c in mine if c.row.status in FILED_STATUSES),
                )
                if mine
                else []
            )
            groups.append(
                {
                    "summary": summary,
                    "short": short,
                    "registering": open_now[Phase.REGISTRATION],
                    "submitting": open_now[Phase.SUBMISSION],
                    "programme": labels.programme(page.speaker, summary.programme),
                    "results": mine,
                    "registration": f"/{code}/applicant/campaigns/{key}/registration",
                    "new": f"/{code}/applicant/campaigns/{key}/submissions/new"
                    f"?programme={summary.programme}",
                    "list": f"/{code}/applicant/campaigns/{key}",
                }
            )
        return page.render(
            "applicant/results.html",
            groups=groups,
            single=campaign_id is not None,
            count=len(rows),
        )

    @get(
        "/campaigns/{campaign_id:uuid}/registration",
        operation_id="portalRegistrationPage",
        sync_to_thread=True,
        opt=access(APPLICANT),
    )
    def registration_page(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        records: NamedDependency[Records],
        runtime: NamedDependency[TenantRuntime],
    ) -> Template:
        """The unit's 报名 as filed (or blank), editable while the window is open."""
        campaign = runtime.ledger.get_campaign(campaign_id)
        existing = _existing(runtime, records, campaign_id)
        saved = request.query_params.get("saved") == "1" and existing is not None
        form = _registration_page(runtime, campaign, saved, values=RegistrationValues.of(existing))
        return form.show(request, runtime.tenant)

    @post(
        "/campaigns/{campaign_id:uuid}/registration",
        operation_id="portalRegister",
        opt=access(APPLICANT),
    )
    async def register(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        records: NamedDependency[Records],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        """报名 filed, or changed at the version the page was read at."""
        posted = RegistrationValues(await request.form())
        return await sync_to_thread(
            self._register, request, campaign_id, records, runtime, actor, posted
        )

    @staticmethod
    def _register(
        request: Request[Any, Any, Any],
        campaign_id: UUID,
        records: Records,
        runtime: TenantRuntime,
        actor: Actor,
        posted: RegistrationValues,
    ) -> Redirect:
        campaign = runtime.ledger.get_campaign(campaign_id)
        existing = _existing(runtime, records, campaign_id)

        def register() -> None:
            industries = {n for group in runtime.tenant.key_industries for n in group.names}
            form = posted.to_form(industries, runtime.tenant.key_domains)
            if existing is None:
                filing_code = records.filing_code()
                runtime.ledger.register_for_campaign(campaign_id, filing_code, form, actor)
            else:
                version = version_of(posted.version)
                runtime.ledger.change_registration(existing.id, form, actor, version)

        form = _registration_page(
            runtime, campaign, False, fields=REGISTRATION_FIELDS, values=posted.shown()
        )
        here = f"/{runtime.tenant.code}/applicant/campaigns/{campaign_id}/registration?saved=1"
        return form.run(request, runtime.tenant, register, here)

    @get(
        "/results/{submission_id:uuid}",
        operation_id="portalMyResult",
        sync_to_thread=True,
        opt=access(APPLICANT),
    )
    def result(
        self,
        request: Request[Any, Any, Any],
        submission_id: FromPath[UUID],
        records: NamedDependency[Records],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
    ) -> Template:
        """A result's decisions, grade, certificate; its endorsement and withdrawal while open."""
        submission = records.own_submission(runtime, submission_id)
        return _result_page(runtime, views, submission).show(request, runtime.tenant)

    @post(
        "/results/{submission_id:uuid}/endorse",
        operation_id="portalEndorse",
        opt=access(APPLICANT),
    )
    async def endorse(
        self,
        request: Request[Any, Any, Any],
        submission_id: FromPath[UUID],
        records: NamedDependency[Records],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        """单位意见: the unit's self-evaluation, opinion and score, by one who speaks for it."""
        posted = await request.form()
        values = stripped(posted, "self_evaluation", "opinion", "score")
        version = version_of(posted.get("version"))

        def endorse() -> None:
            records.own_submission(runtime, submission_id, speaking=True)
            too_long = [
                Problem(k, "too_long", "不能超过 2000 个字")
                for k in ("self_evaluation", "opinion")
                if len(values[k]) > 2000
            ]
            try:
                score = Decimal(values["score"])
            except InvalidOperation:
                too_long.append(Problem("score", "number", "评分应为数字"))
            if too_long or not score.is_finite():
                raise RequestProblem(422, *too_long)
            runtime.ledger.endorse_submission(
                submission_id, values["self_evaluation"], values["opinion"], score, actor, version
            )
            caught_up(runtime, views)

        def run() -> Redirect:
            submission = records.own_submission(runtime, submission_id)  # 404 before the form
            form = _result_page(
                runtime,
                views,
                submission,
                fields=("self_evaluation", "opinion", "score"),
                values={**values, "reason": ""},
            )
            done = f"/{runtime.tenant.code}/applicant/results/{submission_id}"
            return form.run(request, runtime.tenant, endorse, done)

        return await sync_to_thread(run)

    @post(
        "/results/{submission_id:uuid}/withdraw",
        operation_id="portalWithdraw",
        opt=access(APPLICANT),
    )
    async def withdraw(
        self,
        request: Request[Any, Any, Any],
        submission_id: FromPath[UUID],
        records: NamedDependency[Records],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        """撤回, confirmed, with the reason if the unit gives one."""
        posted = await request.form()
        reason = stripped(posted, "reason")["reason"]
        confirmed = posted.get("confirm") == "yes"
        version = version_of(posted.get("version"))

        def withdraw() -> None:
            if not confirmed:
                raise RequestProblem(422, Problem("confirm", "required", "请勾选确认撤回"))
            if len(reason) > 500:
                raise RequestProblem(422, Problem("reason", "too_long", "不能超过 500 个字"))
            runtime.ledger.withdraw_submission(submission_id, reason, actor, version)
            caught_up(runtime, views)

        def run() -> Redirect:
            submission = records.own_submission(runtime, submission_id)
            form = _result_page(
                runtime, views, submission, fields=("reason", "confirm"), values={"reason": reason}
            )
            done = f"/{runtime.tenant.code}/applicant/results/{submission_id}"
            return form.run(request, runtime.tenant, withdraw, done)

        return await sync_to_thread(run)


def _registration_page(
    runtime: TenantRuntime, campaign: Campaign, saved: bool, **form: Any
) -> FormPage:
    """The unit's 报名 of a campaign (`saved`: just saved), where it is filed or changed."""
    return FormPage(
        "applicant/registration.html",
        lambda page: {**_registration_context(page, runtime, campaign), "saved": saved},
        **form,
    )


RESULT_FIELDS = {"self_evaluation": "", "opinion": "", "score": "", "reason": ""}
"""The fields of a result's forms (endorsement, withdrawal): blank but for the one posted."""


def _result_page(
    runtime: TenantRuntime,
    views: TenantViews,
    submission: Submission,
    values: Mapping[str, str] | None = None,
    **form: Any,
) -> FormPage:
    """A result's page, where it is endorsed or withdrawn (`values`: what was posted)."""
    return FormPage(
        "applicant/result.html",
        lambda page: _result_context(page, runtime, views, submission),
        values={**RESULT_FIELDS, **(values or {})},
        **form,
    )


def caught_up(runtime: TenantRuntime, views: TenantViews) -> None:
    """After a command, the read models the next page reads have seen it (as the API waits)."""
    views.wait(runtime.ledger.recorder.max_notification_id())


def _result_context(
    page: Page, runtime: TenantRuntime, views: TenantViews, submission: Submission
) -> dict[str, Any]:
    """A result's decisions: the recommendation with its reason, formal review, the grade and
    the certificate; the endorsement and withdrawal while they are open."""
    code = runtime.tenant.code
    found = runtime.ledger.find_recommendation(submission.campaign_id, submission.recommending_unit)
    decision, reason = found.decision_on(submission.id) if found else ("pending", None)
    rows = [
        r
        for r in campaign_results(views.db("review_board"), submission.campaign_id, {})
        if r.submission_id == str(submission.id)
    ]
    graded = rows[0] if rows else None
    grades = runtime.grade_names(submission.programme)
    grade = ""
    if graded and graded.grade and graded.status != "graded":
        grade = grades.get(graded.grade, graded.grade)
        if page.speaker.english:
            config = runtime.tenant.programmes.get(submission.programme)
            english = {g.code: g.name_en for g in config.grades} if config else {}
            grade = english.get(graded.grade, grade)
    certificate = ""
    if graded and graded.status == "published" and graded.certificate_code:
        certificate = (
            f"/api/v1/tenants/{code}/campaigns/{submission.campaign_id}"
            f"/results/{submission.id}/certificate.pdf"
        )
    status = submission.status.value
    endorsed = submission.endorsement is not None
    listed = own_submissions(
        views.db("submission_list"),
        (frozenset((submission.credit_code,)), ""),
        submission.campaign_id,
    )
    row = next((r for r in listed if r.submission_id == str(submission.id)), None)
    stage = row.stage if row else None
    at = stage_of(status, endorsed, stage)
    formal = submission.formal_review
    return {
        "submission": submission,
        "title": (row.title if row else "") or page.speaker.gettext("（未命名）"),
        "programme": labels.programme(page.speaker, submission.programme),
        "steps": step_line(page, at, status),
        "decision": page.speaker.gettext(DECISIONS.get(decision, DECISIONS["pending"])),
        "decision_reason": reason or "",
        "formal": page.speaker.gettext(FORMAL[formal]) if formal in FORMAL else "",
        "grade": grade,
        "certificate": certificate,
        "national": _national_outcome(submission),
        "may_endorse": next_action(status, endorsed, stage) == "endorse",
        "endorsement": submission.endorsement,
        "score_max": _score_max(runtime, submission),
        "may_withdraw": status != SubmissionStatus.WITHDRAWN.value
        and not submission.reviewed_formally,
        "edit": f"/{code}/applicant/submissions/{submission.id}",
        "back": f"/{code}/applicant/campaigns/{submission.campaign_id}",
        "action": f"/{code}/applicant/results/{submission.id}",
    }


def _national_outcome(submission: Submission) -> dict[str, str] | None:
    """Where a forwarded result stands nationally, as it came back: the status, or the national
    grade's name (全国优秀质量管理小组), the national certificate code and its verification link."""
    national = submission.national_record
    if national is None:
        return None
    code = national.get("certificate_code") or ""
    return {
        "status": national_status_name(national),
        "certificate": code,
        "verify": f"/verify?code={code}" if code else "",
    }


def _score_max(runtime: TenantRuntime, submission: Submission) -> int:
    campaign = runtime.ledger.get_campaign(submission.campaign_id)
    return int(campaign.rules.score_max)
