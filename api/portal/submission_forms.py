"""The applicant's result forms in the browser (班组通道/单位通道): the QC result form and the team
form, drafted, changed, submitted and resubmitted, and their attachments uploaded (streamed),
replaced, removed and downloaded. The same ledger commands as `api/applicants/submissions.py`, and the same
record rules (`Records`).

Every action is a plain form post; `static/result-form.js` adds and removes member rows in place,
counts characters as they are typed and uploads files with a progress bar.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, post
from litestar.concurrency import sync_to_thread
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from aggregates.actor import Actor
from aggregates.campaign import Campaign, CampaignRules, Programme
from aggregates.problems import Problem
from aggregates.submission import (
    REQUIRED_ATTACHMENTS,
    AttachmentKind,
    InvalidSubmission,
    Submission,
    SubmissionStatus,
)
from aggregates.submission_forms import (
    COUNT_FIELDS,
    Form,
    QcResultForm,
    TeamForm,
    TopicType,
)
from api.applicants.schemas import QcResultIn, TeamIn
from api.applicants.submissions import APPLICANT, allowed_names, receive_attachment
from api.platform.access import access, not_found
from api.platform.records import Records
from api.platform.security import CSRF_FIELD
from api.portal import labels
from api.portal.errors import FormState
from api.portal.i18n import Speaker
from api.portal.labels import N_
from api.portal.rendering import Page
from tenants.files import FileStore
from tenants.runtime import TenantRuntime

TEMPLATE = "applicant/forms/result.html"
DIRECT = "direct"
KINDS = frozenset(k.value for k in AttachmentKind)
CHUNK = 1024 * 1024

QC_FIELDS = {
    "group_name": N_("小组名称"),
    "group_size": N_("小组人数"),
    "topic_name": N_("课题名称"),
    "industry": N_("所属行业"),
    "topic_type": N_("课题类型"),
    "members": N_("小组成员名单"),
    "intro": N_("QC 小组简介及主要活动过程与效果"),
}
TOPIC_TYPES = {TopicType.PROBLEM_SOLVING: N_("问题解决型"), TopicType.INNOVATIVE: N_("创新型")}
COMMITMENT_LABELS = (
    N_("自愿参加本年度质量管理小组活动"),
    N_("推行《质量管理小组活动准则》(T/CAQ10201-2020)"),
    N_(
        "提交所有材料均真实、合法、有效，不存在剽窃他人活动成果、侵犯他人知识产权、伪造材料等不端及失信行为"
    ),
    N_("申报课题内容不含《中华人民共和国保守国家秘密法》所规定的涉密内容"),
)
TEAM_FIELDS = {
    "team_name": N_("班组名称"),
    "team_size": N_("班组人数"),
    "leader": N_("班组长"),
}
FIGURES = {
    # name: (label, unit, kind, minimum, maximum)
    "work_completion_pct": (N_("班组工作完成率"), "%", "decimal", "0", "100"),
    "quality_pass_pct": (N_("质量考核合格率"), "%", "decimal", "0", "100"),
    "nonconformity_pct": (N_("产品/服务不合格率"), "%", "decimal", "0", "100"),
    "first_pass_yield_pct": (N_("产品/服务一次合格率"), "%", "decimal", "0", "100"),
    "accidents": (N_("年质量、安全事故数"), N_("起"), "integer", "0", ""),
    "complaints": (N_("年顾客投诉数"), N_("次"), "integer", "0", ""),
    "training_people": (N_("年培训人数"), N_("人"), "integer", "0", ""),
    "training_hours": (N_("年培训时数"), N_("小时"), "integer", "0", ""),
    "participation_pct": (N_("成员参与改进活动率"), "%", "decimal", "0", "100"),
    "quality_cost_10k": (N_("质量成本"), N_("万元/年"), "decimal", "0", ""),
    "creation_coverage_pct": (N_("质量信得过班组创建普及率"), "%", "decimal", "0", "100"),
}
SECTION_LABELS = (
    N_("班组成员组成，班组职责，主要工作内容、班组文化和愿景"),
    N_("班组基础管理情况"),
    N_("班组成员专业知识、技能培训、工具方法应用能力"),
    N_("班组质量改进和创新能力"),
    N_("班组管理特色、业绩及评价结果"),
    N_("近三年取得荣誉情况，包括班组集体和个人荣誉等"),
)
ATTACHMENTS = {
    AttachmentKind.APPLICATION_FORM: N_("盖章申报表"),
    AttachmentKind.REPORT: N_("成果报告"),
    AttachmentKind.EVIDENCE: N_("证实性材料"),
    AttachmentKind.SLIDES: N_("发表 PPT"),
    AttachmentKind.VIDEO: N_("发表视频"),
}
STATUSES = {
    SubmissionStatus.DRAFT: N_("草稿"),
    SubmissionStatus.SUBMITTED: N_("已提交"),
    SubmissionStatus.RETURNED: N_("退回修改"),
    SubmissionStatus.WITHDRAWN: N_("已撤回"),
    SubmissionStatus.REJECTED: N_("形式审查未通过"),
}
MESSAGES = {
    # (rule, field or "") -> the message in the catalog; %(n)s is the number the domain names.
    ("required", ""): N_("提交前须填写"),
    ("required", "members"): N_("请填写小组成员名单"),
    ("required", "topic_type"): N_("请选择课题类型"),
    ("required", "members[]"): N_("成员姓名不能为空"),
    ("max_length", ""): N_("不得超过 %(n)s 字"),
    ("min_length", "intro"): N_("简介约 1000 字，至少 %(n)s 字"),
    ("max_members", ""): N_("小组成员名单至多 %(n)s 人"),
    ("more_than_group_size", ""): N_("成员名单人数多于小组人数"),
    ("range", "group_size"): N_("小组人数应在 1 至 1000 之间"),
    ("range", "team_size"): N_("班组人数应在 1 至 500 之间"),
    ("must_accept", ""): N_("须接受此项承诺"),
    ("percent_range", ""): N_("百分比应在 0 至 100 之间"),
    ("non_negative", ""): N_("不能为负数"),
    ("coherent", "figures.nonconformity_pct"): N_("合格率与不合格率之和不能超过 100%"),
    ("coherent", "figures.accidents"): N_("已确认近三年无事故，年事故数应为 0"),
    ("basic_unit", ""): N_("班组名称应为最基础的正式组织单元，不应以车间命名"),
    ("must_confirm", "no_accident_three_years"): N_("须确认班组近 %(n)s 年无质量、安全、环保事故"),
    ("must_confirm", "basic_formal_unit"): N_("须确认班组是企业最基础的正式组织单元"),
    ("integer", ""): N_("应为整数"),
    ("number", ""): N_("应为数字"),
    ("invalid", ""): N_("不符合要求"),
    ("not_in_list", ""): N_("请从列表中选择"),
    ("content_type", ""): N_("文件内容不是允许的格式（%(formats)s），与文件名无关"),
    ("max_size", ""): N_("文件超过本活动对该类附件的大小上限 %(n)s MB"),
    ("duplicate", ""): N_("同一文件已上传"),
    ("not_attached", ""): N_("没有这个附件"),
    ("no_file", ""): N_("请选择要上传的文件"),
    ("not_editable", ""): N_("申报已提交，不能修改"),
    ("already_submitted", ""): N_("申报已提交"),
    ("not_returned", ""): N_("只有退回修改的申报才能重新提交"),
    ("phase_closed", ""): N_("成果申报不在开放时间内"),
    ("version_conflict", ""): N_("申报已被修改，请刷新页面后再改"),
}
NUMBER = re.compile(r"\d+")
SECTION_PATH = re.compile(r"\$\.(?P<path>[\w.\[\]]+)")


def fid(field: str) -> str:
    """A field's element id: `members[2]` is `f-members-2`, `figures.accidents` is
    `f-figures-accidents`."""
    return "f-" + re.sub(r"\W+", "-", field).strip("-")


def problem_text(speaker: Speaker, problem: Problem, formats: str = "") -> str:
    """The refusal in the reader's language: the domain's Chinese, or the catalog's English of
    its rule (with the number the domain names), or the portal's common labels."""
    if not speaker.english:
        return problem.message
    field = re.sub(r"\[\d+\]$", "[]", problem.field)
    known = MESSAGES.get((problem.rule, field)) or MESSAGES.get((problem.rule, ""))
    if known is None:
        return labels.problem(speaker, problem)
    text = speaker.gettext(known)
    if "%(" not in known:
        return text
    found = NUMBER.search(problem.message)
    return text % {"n": found.group(0) if found else "", "formats": formats}


# Reading the posted form.


def _text(data: Any, name: str) -> str:
    value = data.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _whole(data: Any, name: str, problems: list[Problem], default: int | None = 0) -> int | None:
    raw = _text(data, name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        problems.append(Problem(name, "integer", "应为整数"))
        return default


def _decimal(data: Any, name: str, problems: list[Problem]) -> str | None:
    raw = _text(data, name)
    if not raw:
        return None
    try:
        number = Decimal(raw)
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        problems.append(Problem(name, "number", "应为数字"))
        return None
    return raw


def qc_values(data: Any) -> dict[str, Any]:
    """The QC form as posted (what to show again), rows without a name dropped."""
    members = [m.strip() for m in data.getall("members", []) if isinstance(m, str)]
    return {
        "group_name": _text(data, "group_name"),
        "group_size": _text(data, "group_size"),
        "topic_name": _text(data, "topic_name"),
        "industry": _text(data, "industry"),
        "topic_type": _text(data, "topic_type"),
        "members": members,
        "intro": data.get("intro", "") if isinstance(data.get("intro", ""), str) else "",
        "commitments": [bool(data.get(f"commitments[{i}]")) for i in range(4)],
    }


def team_values(data: Any) -> dict[str, Any]:
    return {
        "team_name": _text(data, "team_name"),
        "team_size": _text(data, "team_size"),
        "leader": _text(data, "leader"),
        "figures": {name: _text(data, f"figures.{name}") for name in FIGURES},
        "sections": [
            data.get(f"sections[{i}]", "") if isinstance(data.get(f"sections[{i}]"), str) else ""
            for i in range(6)
        ],
        "no_accident_three_years": bool(data.get("no_accident_three_years")),
        "basic_formal_unit": bool(data.get("basic_formal_unit")),
    }


def _schema_problem(error: msgspec.ValidationError) -> Problem:
    """The API schema's refusal (a length, a range) as a problem of the field it names."""
    text = str(error)
    found = SECTION_PATH.search(text)
    field = found.group("path") if found else "form"
    bound = NUMBER.search(text.split(" - ", maxsplit=1)[0])
    if "length" in text and bound:
        return Problem(field, "max_length", f"不得超过 {bound.group(0)} 字")
    if ">=" in text:
        return Problem(field, "non_negative", "不能为负数")
    if "<=" in text and field in ("group_size", "team_size"):
        return Problem(field, "range", "人数超出允许范围")
    return Problem(field, "invalid", "不符合要求")


def parse_form(programme: Programme, data: Any) -> tuple[Form, dict[str, Any]]:
    """The form of the programme from a posted page (drafts may be incomplete), by the API's
    own schema (`QcResultIn`, `TeamIn`); what it cannot read is refused beside its field."""
    problems: list[Problem] = []
    if programme is Programme.TEAM:
        values = team_values(data)
        figures: dict[str, Any] = {}
        for name in FIGURES:
            if name in COUNT_FIELDS:
                figures[name] = _whole(data, f"figures.{name}", problems, None)
            else:
                figures[name] = _decimal(data, f"figures.{name}", problems)
        body: dict[str, Any] = {
            "team_name": values["team_name"],
            "team_size": _whole(data, "team_size", problems),
            "leader": values["leader"],
            "figures": figures,
            "sections": values["sections"],
            "no_accident_three_years": values["no_accident_three_years"],
            "basic_formal_unit": values["basic_formal_unit"],
        }
        schema: type[QcResultIn] | type[TeamIn] = TeamIn
    else:
        values = qc_values(data)
        topic = values["topic_type"]
        if topic and topic not in {t.value for t in TopicType}:
            problems.append(Problem("topic_type", "not_in_list", "请从列表中选择"))
            topic = ""
        body = {
            **values,
            "group_size": _whole(data, "group_size", problems),
            "topic_type": topic or None,
        }
        schema = QcResultIn
    if problems:
        raise InvalidSubmission(*problems)
    try:
        parsed = msgspec.convert(body, schema, strict=False)
    except msgspec.ValidationError as error:
        raise InvalidSubmission(_schema_problem(error)) from None
    return parsed.to_form(), values


def stored_values(form: Form) -> dict[str, Any]:
    """The stored form as the page shows it."""
    if isinstance(form, TeamForm):
        figures = form.figures
        return {
            "team_name": form.team_name,
            "team_size": str(form.team_size or ""),
            "leader": form.leader,
            "figures": {
                name: "" if getattr(figures, name) is None else str(getattr(figures, name))
                for name in FIGURES
            },
            "sections": list(form.sections),
            "no_accident_three_years": form.no_accident_three_years,
            "basic_formal_unit": form.basic_formal_unit,
        }
    return {
        "group_name": form.group_name,
        "group_size": str(form.group_size or ""),
        "topic_name": form.topic_name,
        "industry": form.industry,
        "topic_type": form.topic_type.value if form.topic_type else "",
        "members": list(form.members),
        "intro": form.intro,
        "commitments": list(form.commitments),
    }


def blank(programme: Programme) -> Form:
    return TeamForm() if programme is Programme.TEAM else QcResultForm()


# What the page shows.


def field_names(programme: Programme, rules: CampaignRules) -> tuple[str, ...]:
    """Every field a problem can be shown beside."""
    common = ("unit_name", "recommending_unit", *(f"attachments.{k.value}" for k in ATTACHMENTS))
    if programme is Programme.TEAM:
        return (
            *TEAM_FIELDS,
            *(f"figures.{n}" for n in FIGURES),
            "sections",
            *(f"sections[{i}]" for i in range(6)),
            "no_accident_three_years",
            "basic_formal_unit",
            *common,
        )
    return (
        *QC_FIELDS,
        *(f"members[{i}]" for i in range(max(rules.members_max, 10) + 5)),
        *(f"commitments[{i}]" for i in range(4)),
        *common,
    )


def _label_words(speaker: Speaker, programme: Programme) -> dict[str, list[str]]:
    """Each field's label in both languages, to place the secretariat's items beside them."""
    fields: dict[str, str] = dict(QC_FIELDS if programme is Programme.QC_GROUP else TEAM_FIELDS)
    if programme is Programme.TEAM:
        fields.update({f"figures.{n}": spec[0] for n, spec in FIGURES.items()})
        fields.update({f"sections[{i}]": text for i, text in enumerate(SECTION_LABELS)})
    fields.update({f"attachments.{k.value}": text for k, text in ATTACHMENTS.items()})
    return {name: [label, speaker.gettext(label)] for name, label in fields.items()}


def place_corrections(
    speaker: Speaker, programme: Programme, items: list[str]
) -> tuple[dict[str, list[str]], list[str]]:
    """The secretariat's items to correct: beside the field an item names (the longest label it
    contains), the others above the form."""
    words = _label_words(speaker, programme)
    beside: dict[str, list[str]] = {}
    above: list[str] = []
    for item in items:
        best, length = None, 0
        for name, labels_of in words.items():
            for label in labels_of:
                if label and label in item and len(label) > length:
                    best, length = name, len(label)
        if best is None:
            above.append(item)
        else:
            beside.setdefault(best, []).append(item)
    return beside, above


def missing_of(submission: Submission, campaign: Campaign) -> list[Problem]:
    """What must still be done before the result can be submitted (the domain's own check)."""
    try:
        submission.check_complete(campaign.rules)
    except InvalidSubmission as refusal:
        return list(refusal.problems)
    return []


def _units(runtime: TenantRuntime, speaker: Speaker) -> list[tuple[str, str]]:
    units = [(u.code, u.name_zh) for u in runtime.tenant.recommending_units]
    return [*units, (DIRECT, speaker.gettext("直接受理通道（无推荐单位）"))]


class Shown:
    """The page's context for one result (or a new one)."""

    def __init__(
        self,
        page: Page,
        runtime: TenantRuntime,
        campaign: Campaign,
        submission: Submission | None,
    ) -> None:
        self.page, self.runtime, self.campaign, self.submission = (
            page,
            runtime,
            campaign,
            submission,
        )
        self.programme = campaign.programme
        self.rules = campaign.rules

    def problems_beside(self, problems: list[Problem] | tuple[Problem, ...]) -> dict[str, Any]:
        speaker = self.page.speaker
        fields = field_names(self.programme, self.rules)
        beside: dict[str, list[str]] = {}
        above: list[str] = []
        for problem in problems:
            name = problem.field
            text = problem_text(speaker, problem, self._formats(name))
            if name.startswith("figures.") and name not in fields:
                name = "figures"
            if name in fields:
                beside.setdefault(name, []).append(text)
            else:
                above.append(text)
        return {"beside": beside, "above": above}

    def _formats(self, field: str) -> str:
        kind = field.removeprefix("attachments.")
        return allowed_names(AttachmentKind(kind)) if kind in KINDS else ""

    def context(
        self,
        values: dict[str, Any],
        meta: dict[str, str],
        beside: dict[str, list[str]] | None = None,
        above: list[str] | None = None,
        notice: str = "",
    ) -> dict[str, Any]:
        speaker = self.page.speaker
        tenant = self.runtime.tenant.code
        submission = self.submission
        corrections_beside: dict[str, list[str]] = {}
        corrections_above: list[str] = []
        missing: list[dict[str, str]] = []
        attachments: list[dict[str, Any]] = []
        if submission is not None:
            if submission.status is SubmissionStatus.RETURNED:
                corrections_beside, corrections_above = place_corrections(
                    speaker, self.programme, list(submission.corrections)
                )
            if submission.status in (SubmissionStatus.DRAFT, SubmissionStatus.RETURNED):
                missing = [
                    {
                        "field": p.field,
                        "anchor": fid(p.field),
                        "text": problem_text(speaker, p, self._formats(p.field)),
                    }
                    for p in missing_of(submission, self.campaign)
                ]
            required = REQUIRED_ATTACHMENTS[self.programme]
            for kind, label in ATTACHMENTS.items():
                attachments.append(
                    {
                        "kind": kind.value,
                        "label": speaker.gettext(label),
                        "required": kind in required,
                        "formats": allowed_names(kind),
                        "max_mb": self.rules.max_bytes(kind.value) // (1024 * 1024),
                        "files": [
                            {
                                "name": a.name,
                                "size": _size(a.size),
                                "sha256": a.sha256,
                                "href": f"/api/v1/tenants/{tenant}/submissions/{submission.id}"
                                f"/attachments/{a.sha256}",
                            }
                            for a in submission.attachments
                            if a.kind is kind
                        ],
                    }
                )
        editable = submission is None or submission.status in (
            SubmissionStatus.DRAFT,
            SubmissionStatus.RETURNED,
        )
        members = list(values.get("members", []))
        return {
            "programme": self.programme.value,
            "programme_name": labels.programme(speaker, self.programme),
            "campaign": self.campaign,
            "submission": submission,
            "status_name": speaker.gettext(STATUSES[submission.status]) if submission else "",
            "editable": editable,
            "action": (
                f"/{tenant}/applicant/submissions/{submission.id}"
                if submission
                else f"/{tenant}/applicant/campaigns/{self.campaign.id}/submissions/new"
            ),
            "form": values,
            "meta": meta,
            "units": _units(self.runtime, speaker),
            "members_max": self.rules.members_max,
            "member_rows": members if members else [""],
            "intro_min": self.rules.intro_min_chars,
            "intro_max": self.rules.intro_max_chars,
            "team_max": self.rules.team_report_max_chars,
            "qc_fields": {k: speaker.gettext(v) for k, v in QC_FIELDS.items()},
            "team_fields": {k: speaker.gettext(v) for k, v in TEAM_FIELDS.items()},
            "topic_types": [(t.value, speaker.gettext(v)) for t, v in TOPIC_TYPES.items()],
            "commitment_labels": [speaker.gettext(c) for c in COMMITMENT_LABELS],
            "figures": [
                {
                    "name": name,
                    "label": speaker.gettext(label),
                    "unit": speaker.gettext(unit) if unit != "%" else "%",
                    "kind": kind,
                    "min": low,
                    "max": high,
                }
                for name, (label, unit, kind, low, high) in FIGURES.items()
            ],
            "section_labels": [speaker.gettext(s) for s in SECTION_LABELS],
            "attachments": attachments,
            "missing": missing,
            "beside": beside or {},
            "above": above or [],
            "corrections_beside": corrections_beside,
            "corrections_above": corrections_above,
            "corrections": list(submission.corrections)
            if submission and submission.status is SubmissionStatus.RETURNED
            else [],
            "notice": notice,
            "csrf_field": CSRF_FIELD,
            "fid": fid,
            "accident_years": self.rules.accident_free_years,
        }

    def state(
        self,
        values: dict[str, Any],
        meta: dict[str, str],
        notice: str = "",
        file_field: str | None = None,
    ) -> FormState:
        """What to show again when the command is refused: the input, each problem beside its
        field."""

        def on_refusal(problems: tuple[Problem, ...]) -> dict[str, Any]:
            if file_field is not None:  # an upload's refusal, beside its file input
                problems = tuple(
                    Problem(file_field, p.rule, p.message) if p.field == "file" else p
                    for p in problems
                )
            placed = self.problems_beside(problems)
            fresh = self.submission
            if fresh is not None:  # a command before the refused one may have changed it
                fresh = self.runtime.ledger.get_submission(fresh.id)
            again = Shown(self.page, self.runtime, self.campaign, fresh)
            return again.context(values, meta, placed["beside"], placed["above"], notice)

        return FormState(
            template=TEMPLATE,
            fields=(),
            values={},
            context=self.context(values, meta, notice=notice),
            page=self.page,
            on_refusal=on_refusal,
        )


def _size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(size, 1) / 1024:.0f} KB" if size >= 1024 else f"{size} B"


def _check_rows(values: dict[str, Any], action: str, members_max: int) -> bool:
    """Add or remove a member row without saving (the page without JavaScript); True if the
    action was one."""
    if action == "add_row":
        if len(values["members"]) < members_max:
            values["members"] = [*values["members"], ""]
        return True
    if action.startswith("remove_row:"):
        index = action.removeprefix("remove_row:")
        if index.isdigit() and int(index) < len(values["members"]):
            del values["members"][int(index)]
        return True
    return False


async def _file_chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK):
        yield chunk


class ResultFormPages(Controller):
    path = "/{tenant:str}/applicant"
    include_in_schema = False

    @get(
        "/campaigns/{campaign_id:uuid}/submissions/new",
        operation_id="portalNewResult",
        sync_to_thread=True,
        opt=access(APPLICANT),
    )
    def new_page(
        self,
        request: Request[Any, Any, Any],
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        programme: FromQuery[str | None] = None,
    ) -> Template:
        campaign = runtime.ledger.get_campaign(campaign_id)
        if programme is not None and programme != campaign.programme.value:
            raise not_found("programme")
        records.filing_code()  # an applicant without an enterprise has nothing to file under
        page = Page(request, runtime.tenant)
        shown = Shown(page, runtime, campaign, None)
        verified = _enterprise_name(records)
        meta = {"unit_name": verified, "recommending_unit": "", "verified": "1" if verified else ""}
        return page.render(
            TEMPLATE, **shown.context(stored_values(blank(campaign.programme)), meta)
        )

    @post(
        "/campaigns/{campaign_id:uuid}/submissions/new",
        operation_id="portalDraftResult",
        opt=access(APPLICANT),
    )
    async def draft(
        self,
        request: Request[Any, Any, Any],
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> Template | Redirect:
        data = await request.form()
        return await sync_to_thread(
            self._draft, request, records, campaign_id, runtime, actor, data
        )

    def _draft(
        self,
        request: Request[Any, Any, Any],
        records: Records,
        campaign_id: UUID,
        runtime: TenantRuntime,
        actor: Actor,
        data: Any,
    ) -> Template | Redirect:
        campaign = runtime.ledger.get_campaign(campaign_id)
        page = Page(request, runtime.tenant)
        shown = Shown(page, runtime, campaign, None)
        programme = campaign.programme
        values = qc_values(data) if programme is Programme.QC_GROUP else team_values(data)
        verified = _enterprise_name(records)
        meta = {  # the enterprise's name as its account records it, not as typed (ADR 0037)
            "unit_name": verified or _text(data, "unit_name"),
            "recommending_unit": _text(data, "recommending_unit"),
            "verified": "1" if verified else "",
        }
        action = _text(data, "action") or "save"
        if programme is Programme.QC_GROUP and _check_rows(
            values, action, campaign.rules.members_max
        ):
            return page.render(TEMPLATE, **shown.context(values, meta))
        request.state.form = shown.state(values, meta)
        problems = []
        if not meta["unit_name"]:
            problems.append(Problem("unit_name", "required", "不能为空"))
        if meta["recommending_unit"] not in {code for code, _ in _units(runtime, page.speaker)}:
            problems.append(Problem("recommending_unit", "required", "请选择推荐单位"))
        form, _ = parse_form(programme, data)
        if problems:
            raise InvalidSubmission(*problems)
        submission, _ = runtime.ledger.draft_submission(
            campaign_id=campaign_id,
            credit_code=records.filing_code(),
            applicant={"unit_name": meta["unit_name"], "key_domain": None, "key_industries": []},
            recommending_unit=meta["recommending_unit"],
            form=form,
            actor=actor,
        )
        records.own(submission)
        where = f"/{runtime.tenant.code}/applicant/submissions/{submission.id}?saved=1"
        return Redirect(where, status_code=303)

    @get(
        "/submissions/{submission_id:uuid}",
        operation_id="portalResult",
        sync_to_thread=True,
        opt=access(APPLICANT),
    )
    def result_page(
        self,
        request: Request[Any, Any, Any],
        records: NamedDependency[Records],
        submission_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        saved: FromQuery[str | None] = None,
    ) -> Template:
        submission = records.own(runtime.ledger.get_submission(submission_id))
        campaign = runtime.ledger.get_campaign(submission.campaign_id)
        page = Page(request, runtime.tenant)
        shown = Shown(page, runtime, campaign, submission)
        notices = {
            "1": page.speaker.gettext("草稿已保存"),
            "submitted": page.speaker.gettext("已提交"),
            "uploaded": page.speaker.gettext("文件已上传"),
            "removed": page.speaker.gettext("附件已删除"),
        }
        return page.render(
            TEMPLATE,
            **shown.context(
                stored_values(submission.form),
                _meta(submission),
                notice=notices.get(saved or "", ""),
            ),
        )

    @post(
        "/submissions/{submission_id:uuid}",
        operation_id="portalChangeResult",
        opt=access(APPLICANT),
    )
    async def change(
        self,
        request: Request[Any, Any, Any],
        records: NamedDependency[Records],
        submission_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> Template | Redirect:
        data = await request.form()
        return await sync_to_thread(
            self._change, request, records, submission_id, runtime, actor, data
        )

    def _change(
        self,
        request: Request[Any, Any, Any],
        records: Records,
        submission_id: UUID,
        runtime: TenantRuntime,
        actor: Actor,
        data: Any,
    ) -> Template | Redirect:
        submission = records.own(runtime.ledger.get_submission(submission_id))
        campaign = runtime.ledger.get_campaign(submission.campaign_id)
        page = Page(request, runtime.tenant)
        shown = Shown(page, runtime, campaign, submission)
        programme = campaign.programme
        values = qc_values(data) if programme is Programme.QC_GROUP else team_values(data)
        meta = {**_meta(submission), "recommending_unit": _text(data, "recommending_unit")}
        action = _text(data, "action") or "save"
        if programme is Programme.QC_GROUP and _check_rows(
            values, action, campaign.rules.members_max
        ):
            return page.render(TEMPLATE, **shown.context(values, meta))
        request.state.form = shown.state(values, meta)
        version = _whole(data, "version", [], None)
        if meta["recommending_unit"] not in {code for code, _ in _units(runtime, page.speaker)}:
            raise InvalidSubmission(Problem("recommending_unit", "required", "请选择推荐单位"))
        form, _ = parse_form(programme, data)
        if form != submission.form or meta["recommending_unit"] != submission.recommending_unit:
            submission = runtime.ledger.edit_submission(
                submission_id, form, meta["recommending_unit"], actor, version
            )
            version = submission.version
        here = f"/{runtime.tenant.code}/applicant/submissions/{submission_id}"
        if action == "submit":
            records.own_submission(runtime, submission_id, speaking=True)
            runtime.ledger.submit_submission(submission_id, actor, version)
            return Redirect(f"{here}?saved=submitted", status_code=303)
        if action == "resubmit":
            records.own_submission(runtime, submission_id, speaking=True)
            runtime.ledger.resubmit_submission(submission_id, actor, version)
            return Redirect(f"{here}?saved=submitted", status_code=303)
        return Redirect(f"{here}?saved=1", status_code=303)

    @post(
        "/submissions/{submission_id:uuid}/attachments/{kind:str}",
        operation_id="portalUploadAttachment",
        request_max_body_size=None,  # the campaign's limit per kind applies, while streaming
        opt=access(APPLICANT),
    )
    async def upload(
        self,
        request: Request[Any, Any, Any],
        records: NamedDependency[Records],
        submission_id: FromPath[UUID],
        kind: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
        files: NamedDependency[FileStore],
    ) -> Redirect:
        """A file as a multipart form (the page without JavaScript) or as the request body with
        `?name=` (the page's script, with its progress bar): streamed to the file store either
        way, the kind checked from its content; `replace` names the file it replaces."""
        if kind not in KINDS:
            raise not_found("kind")
        attachment_kind = AttachmentKind(kind)
        submission = await sync_to_thread(records.own_submission, runtime, submission_id)
        campaign = await sync_to_thread(runtime.ledger.get_campaign, submission.campaign_id)
        page = await sync_to_thread(Page, request, runtime.tenant)
        shown = Shown(page, runtime, campaign, submission)
        state = shown.state(
            stored_values(submission.form), _meta(submission), file_field=f"attachments.{kind}"
        )
        request.state.form = state
        multipart = request.content_type[0].startswith("multipart/")
        replace = request.query_params.get("replace", "")
        if multipart:
            data = await request.form()
            upload = data.get("file")
            replace = data.get("replace", "") or replace
            if not isinstance(upload, UploadFile) or not upload.filename:
                raise InvalidSubmission(Problem("file", "no_file", "请选择要上传的文件"))
            name = upload.filename[-200:]
            chunks: AsyncIterator[bytes] = _file_chunks(upload)
            declared = None
        else:
            name = request.query_params.get("name", "").strip()[-200:]
            if not name:
                raise InvalidSubmission(Problem("file", "no_file", "请选择要上传的文件"))
            chunks = request.stream()
            declared = request.headers.get("content-length")
        await receive_attachment(
            records,
            runtime,
            files,
            actor,
            submission_id,
            attachment_kind,
            name,
            chunks,
            declared,
        )
        if isinstance(replace, str) and replace:
            replaced = [
                a
                for a in submission.attachments
                if a.sha256 == replace and a.kind is attachment_kind
            ]
            if replaced:
                await sync_to_thread(
                    runtime.ledger.remove_attachment, submission_id, replace, actor
                )
        here = f"/{runtime.tenant.code}/applicant/submissions/{submission_id}"
        return Redirect(f"{here}?saved=uploaded#attachment-{kind}", status_code=303)

    @post(
        "/submissions/{submission_id:uuid}/attachments/{sha256:str}/remove",
        operation_id="portalRemoveAttachment",
        sync_to_thread=True,
        opt=access(APPLICANT),
    )
    def remove(
        self,
        request: Request[Any, Any, Any],
        records: NamedDependency[Records],
        submission_id: FromPath[UUID],
        sha256: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        submission = records.own_submission(runtime, submission_id)
        campaign = runtime.ledger.get_campaign(submission.campaign_id)
        page = Page(request, runtime.tenant)
        shown = Shown(page, runtime, campaign, submission)
        request.state.form = shown.state(stored_values(submission.form), _meta(submission))
        runtime.ledger.remove_attachment(submission_id, sha256, actor)
        here = f"/{runtime.tenant.code}/applicant/submissions/{submission_id}"
        return Redirect(f"{here}?saved=removed", status_code=303)


def _enterprise_name(records: Records) -> str:
    """The name the account's enterprise is recorded under (shown, not typed; ADR 0037)."""
    return records.principal.account.enterprise_name(records.filing_code()).strip()


def _meta(submission: Submission) -> dict[str, str]:
    return {
        "unit_name": str(submission.applicant.get("unit_name", "")),
        "recommending_unit": submission.recommending_unit,
    }
