"""The recommending unit's reports (推荐通道): the 统计表 for the campaign's period, laid out like the
seed's form, its rates computed as the counts are typed and the enterprise list checked code by
code; and the 工作总结 with its three sections and a live count. The rules are the domain's
(aggregates/statistics_table.py, work_summary.py, credit_code.py); the pages call the same ledger
commands as the API (api/unit_reports.py) and link to its exports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.concurrency import sync_to_thread
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from aggregates.actor import Actor, Role
from aggregates.campaign import Campaign, Phase, Programme
from aggregates.credit_code import normalise
from aggregates.problems import Problem
from aggregates.statistics_table import (
    QC_RATES,
    REVIEW_FORMS,
    Meeting,
    QcFigures,
    StatisticsForm,
    StatisticsNotFound,
    StatisticsTable,
    TeamFiguresTable,
    enterprise_list_problems,
    rate,
)
from aggregates.work_summary import (
    SECTION_NAMES,
    WorkSummary,
    WorkSummaryNotFound,
    counted_characters,
    summary_problems,
)
from api.access import access, not_found, only
from api.errors import RequestProblem
from api.portal import labels
from api.portal.accounts import in_english
from api.portal.clock import written
from api.portal.errors import FormState
from api.portal.i18n import Speaker
from api.portal.rendering import Page
from api.records import Records
from projections.campaign_list import list_campaigns
from projections.service import TenantViews
from tenants.runtime import TenantRuntime

N_ = labels.N_
UNIT_PAGES = only(Role.RECOMMENDING_UNIT, Role.APPLICANT_UNIT)
"""The unit's own pages. An applicant passes the role guard only to meet the record rule
(`Records.unit_name`): no unit is theirs, so each page answers 404, as another unit's does."""
MAX_LENGTH = 200
"""As the API's `Short` (contact, place)."""


@dataclass(frozen=True)
class Item:
    """One line of the seed's form: a typed figure, a computed rate or the enterprise count."""

    number: int
    label: str
    unit: str
    name: str = ""
    """The figure's field (`figures.<name>` in the form and the domain's problems)."""
    rate: str = ""
    """A computed rate's name (QC_RATES)."""
    whole: bool = True
    """Counts (个, 人) are whole numbers; amounts (万元) are decimals."""


QC_ITEMS = (
    Item(1, N_("企业总数（附清单）"), N_("个")),
    Item(2, N_("职工总数"), N_("人"), "employees"),
    Item(3, N_("历年来累计已登记注册 QC 小组数"), N_("个"), "registered_all_years"),
    Item(4, N_("本年度已登记注册 QC 小组数"), N_("个"), "registered_this_year"),
    Item(5, N_("本年度注册参加 QC 小组人数"), N_("人"), "participants"),
    Item(6, N_("本年度 QC 小组普及率 = 参加 QC 小组人数 / 职工总数 × 100%"), "%", rate="coverage"),
    Item(7, N_("本年度坚持活动的 QC 小组数"), N_("个"), "active_groups"),
    Item(8, N_("历年来累计 QC 小组创可计算的经济效益"), N_("万元"), "benefit_all_years_10k", whole=False),
    Item(9, N_("本年度 QC 小组创可计算的经济效益"), N_("万元"), "benefit_this_year_10k", whole=False),
    Item(10, N_("本年度取得成果的 QC 小组数"), N_("个"), "groups_with_results"),
    Item(11, N_("本年度 QC 小组成果率 = 取得成果小组数 / QC 小组注册数 × 100%"), "%", rate="result_rate"),
    Item(12, N_("本年度 QC 小组活动率 = 能坚持活动小组数 / QC 小组注册数 × 100%"), "%", rate="activity_rate"),
    Item(13, N_("本年度企业对 QC 小组活动经费投入（培训、交流、书籍等费用）"), N_("万元"), "spending_10k", whole=False),
    Item(14, N_("本年度企业对 QC 小组活动奖励费用"), N_("万元"), "rewards_10k", whole=False),
    Item(15, N_("取得中国质协评委证书人数"), N_("人"), "certified_reviewers"),
)  # fmt: skip
"""附件6 (上海市质量管理小组活动成果统计表), with the count of groups with results the 成果率
needs given its own line."""
TEAM_ITEMS = (
    Item(1, N_("本年度开展质量信得过班组企业数（附清单）"), N_("个")),
    Item(2, N_("本年度开展质量信得过班组数"), N_("个"), "teams_this_year"),
    Item(3, N_("历年质量信得过班组累计数"), N_("个"), "teams_all_years"),
    Item(4, N_("本年度参与质量信得过班组活动员工数"), N_("人次"), "participating_staff"),
    Item(5, N_("本年度推荐质量信得过班组数"), N_("个"), "teams_recommended"),
    Item(6, N_("本年度对质量信得过班组活动经费投入（培训、交流、规范化等）"), N_("万元"), "spending_10k", whole=False),
    Item(7, N_("本年度对质量信得过班组活动奖励费用"), N_("万元"), "rewards_10k", whole=False),
)  # fmt: skip
"""附件2-2 (上海市“质量信得过班组”活动统计表)."""
REVIEW_FORM_LABELS = {
    "现场评审": N_("现场评审"),
    "资料评审": N_("资料评审"),
    "发表评审": N_("发表评审"),
    "与QC小组合开": N_("与QC小组合开"),
    "单独举办": N_("单独举办"),
}
CONTACT = (
    ("department", N_("QC 小组工作归口部门")),
    ("head", N_("负责人")),
    ("head_phone", N_("联系电话")),
    ("person", N_("联系人")),
    ("mobile", N_("手机")),
    ("email", N_("邮箱地址")),
    ("address", N_("通信地址")),
    ("postcode", N_("邮编")),
)
MEETING_COUNTS = (
    ("entered", N_("发表报名小组数")),
    ("presented", N_("发表小组数")),
    ("attendance", N_("参会人数")),
)
SECTION_HEADINGS = ("一、基本情况", "二、推进经验和做法", "三、存在问题及改进方向")
"""The seed's headings of the 工作总结, each naming its section as the domain looks for it."""
REFUSALS = (
    N_("请填写数字"),
    N_("请填写整数"),
    N_("不能超过 200 个字"),
    N_("不能为负数"),
    N_("参加人数不能多于职工总数"),
    N_("不能多于本年度注册小组数"),
    N_("本年度注册数不能多于历年累计数"),
    N_("本年度效益不能多于历年累计效益"),
    N_("本年度班组数不能多于历年累计数"),
    N_("推荐数不能多于本年度开展的班组数"),
    N_("举办了发表会，请填写时间和地点"),
    N_("发表数不能多于报名数"),
    N_("参会人数不应少于发表数"),
    N_("企业清单中有重复的统一社会信用代码"),
    N_("请附企业清单（统一社会信用代码）"),
    N_("请填写统一社会信用代码"),
    N_("日期格式应为 年-月-日"),
    N_("未找到"),
    N_("缺少“基本情况”部分"),
    N_("缺少“推进经验和做法”部分"),
    N_("缺少“存在问题及改进方向”部分"),
)
"""The domain's refusals on these pages whose message is fixed (translated as they are)."""


def items_of(programme: Programme | str) -> tuple[Item, ...]:
    return TEAM_ITEMS if Programme(programme) is Programme.TEAM else QC_ITEMS


def review_forms_of(programme: Programme | str) -> tuple[str, ...]:
    """The forms of review and exchange the programme's seed form offers (of the domain's)."""
    if Programme(programme) is Programme.TEAM:
        return REVIEW_FORMS
    return tuple(f for f in REVIEW_FORMS if f not in ("与QC小组合开", "单独举办"))


def rates_of(programme: Programme | str) -> dict[str, tuple[str, str]]:
    """The domain's formulas of the programme's rates (part, whole)."""
    return {} if Programme(programme) is Programme.TEAM else dict(QC_RATES)


# The 统计表 as typed.


def enterprise_lines(text: str) -> list[tuple[int, str]]:
    """The pasted column: (line number, code) of each line that holds one (the first cell of a
    row pasted from Excel, tab-separated)."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        cell = line.split("\t", 1)[0].strip()
        if cell:
            found.append((number, normalise(cell)))
    return found


class StatisticsValues:
    """The 统计表 form as posted: every value kept as typed, for showing again."""

    def __init__(self, form: Any, programme: Programme) -> None:
        self.programme = programme
        self.figures = {
            i.name: str(form.get(f"figures.{i.name}", "")).strip()
            for i in items_of(programme)
            if i.name
        }
        self.enterprises = str(form.get("enterprises", ""))
        self.review_forms = [str(v) for v in form.getall("review_forms", [])]
        self.meeting = {
            "held": form.get("meeting.held") == "yes",
            "date": str(form.get("meeting.date", "")).strip(),
            "place": str(form.get("meeting.place", "")).strip(),
            **{n: str(form.get(f"meeting.{n}", "")).strip() for n, _ in MEETING_COUNTS},
        }
        self.contact = {k: str(form.get(f"contact.{k}", "")).strip() for k, _ in CONTACT}

    @staticmethod
    def of(programme: Programme, table: StatisticsTable | None) -> dict[str, Any]:
        if table is None:
            return {
                "figures": {i.name: "" for i in items_of(programme) if i.name},
                "enterprises": "",
                "review_forms": [],
                "meeting": {"held": False, "date": "", "place": ""}
                | {n: "" for n, _ in MEETING_COUNTS},
                "contact": {k: "" for k, _ in CONTACT},
            }
        form = table.form
        meeting = form.meeting
        return {
            "figures": {k: str(v) for k, v in vars(form.figures).items()},
            "enterprises": "\n".join(form.enterprises),
            "review_forms": list(form.review_forms),
            "meeting": {
                "held": meeting.held,
                "date": meeting.date.isoformat() if meeting.date else "",
                "place": meeting.place,
            }
            | {n: str(getattr(meeting, n)) for n, _ in MEETING_COUNTS},
            "contact": {k: form.contact.get(k, "") for k, _ in CONTACT},
        }

    def shown(self) -> dict[str, Any]:
        return {
            "figures": self.figures,
            "enterprises": self.enterprises,
            "review_forms": self.review_forms,
            "meeting": self.meeting,
            "contact": self.contact,
        }

    def to_form(self) -> StatisticsForm:
        """The domain's form; what cannot be read as a number (or is too long) is refused here
        together with the domain's own problems of the rest."""
        found: list[Problem] = []
        numbers: dict[str, Any] = {}
        for item in items_of(self.programme):
            if item.name:
                numbers[item.name] = _number(
                    self.figures[item.name], f"figures.{item.name}", item.whole, found
                )
        counts = {
            n: _number(self.meeting[n], f"meeting.{n}", True, found, blank=0)
            for n, _ in MEETING_COUNTS
        }
        when = None
        if self.meeting["date"]:
            try:
                when = date.fromisoformat(self.meeting["date"])
            except ValueError:
                found.append(Problem("meeting.date", "date", "日期格式应为 年-月-日"))
        found += [
            Problem(f"contact.{k}", "too_long", "不能超过 200 个字")
            for k, v in self.contact.items()
            if len(v) > MAX_LENGTH
        ]
        if len(self.meeting["place"]) > MAX_LENGTH:
            found.append(Problem("meeting.place", "too_long", "不能超过 200 个字"))
        figures_class = TeamFiguresTable if self.programme is Programme.TEAM else QcFigures
        form = StatisticsForm(
            enterprises=[code for _, code in enterprise_lines(self.enterprises)],
            figures=figures_class(**numbers),
            review_forms=list(dict.fromkeys(self.review_forms)),
            meeting=Meeting(
                held=bool(self.meeting["held"]),
                date=when,
                place=self.meeting["place"],
                **counts,
            ),
            contact={k: v for k, v in self.contact.items() if v},
        )
        if found:
            raise RequestProblem(422, *found, *_unread(form.problems(self.programme), found))
        return form

    def rates(self) -> dict[str, Decimal | None]:
        """The rates of the figures as typed (the domain's formula), where they read."""
        shown: dict[str, Decimal | None] = {}
        for name, (part, whole) in rates_of(self.programme).items():
            p, w = self.figures.get(part, ""), self.figures.get(whole, "")
            shown[name] = rate(int(p), int(w)) if _integer(p) and _integer(w) else None
        return shown


def _integer(text: str) -> bool:
    return text.lstrip("-").isdigit()


def _number(
    text: str, field: str, whole: bool, found: list[Problem], blank: int | None = None
) -> Any:
    """The typed value as a number (0 when it does not read: the problem is noted)."""
    if not text:
        if blank is not None:
            return blank
        found.append(Problem(field, "required", "不能为空"))
        return 0
    if whole:
        if _integer(text):
            return int(text)
        found.append(Problem(field, "integer", "请填写整数"))
        return 0
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if value.is_finite():
        return value
    found.append(Problem(field, "number", "请填写数字"))
    return Decimal(0)


def _unread(problems: list[Problem], unread: list[Problem]) -> list[Problem]:
    """The domain's problems, less those of fields that did not read (their 0 is not typed)."""
    fields = {p.field for p in unread}
    return [p for p in problems if p.field not in fields]


# The 工作总结 in its three sections.


def compose(sections: list[str]) -> str:
    """The summary's text: each section that has text under its heading (a section left empty
    is missing, as the domain says)."""
    return "\n".join(
        f"{heading}\n{text.strip()}"
        for heading, text in zip(SECTION_HEADINGS, sections, strict=True)
        if text.strip()
    )


def sections_of(text: str) -> list[str]:
    """The three sections of a stored text (one written elsewhere, without the headings, is
    shown whole in the first)."""
    found = ["", "", ""]
    at = [text.find(h) for h in SECTION_HEADINGS]
    if at[0] != 0 or any(a < 0 for a in at) or at != sorted(at):
        found[0] = text
        return found
    ends = [*at[1:], len(text)]
    for i, (start, end) in enumerate(zip(at, ends, strict=True)):
        found[i] = text[start + len(SECTION_HEADINGS[i]) : end].strip()
    return found


# Page contexts.


def _own(
    records: Records, runtime: TenantRuntime, unit: str, campaign_id: UUID
) -> tuple[str, Campaign]:
    name = records.unit_name(runtime, unit, own=True)  # 404 for another unit, an applicant
    return name, runtime.ledger.get_campaign(campaign_id)


def _window(page: Page, campaign: Campaign) -> dict[str, Any]:
    window = campaign.timeline.get(Phase.RECOMMENDATION)
    open_now = window is not None and window.is_open(page.now) and not campaign.archived
    closes = written(window.closes_at, page.zone, page.speaker) if window else ""
    return {"open_now": open_now, "closes": closes}


def _base(
    page: Page, runtime: TenantRuntime, name: str, unit: str, campaign: Campaign
) -> dict[str, Any]:
    code = runtime.tenant.code
    here = f"/{code}/units/{unit}/campaigns/{campaign.id}"
    api = f"/api/v1/tenants/{code}/campaigns/{campaign.id}/units/{unit}"
    start, end = campaign.period_start, campaign.period_end
    return {
        "campaign": campaign,
        "unit": unit,
        "unit_name": name,
        "programme": labels.programme(page.speaker, campaign.programme),
        "period": page.speaker.gettext("%(a)s年%(b)s月至%(c)s年%(d)s月")
        % {"a": start.year, "b": start.month, "c": end.year, "d": end.month},
        "statistics_href": f"{here}/statistics",
        "summary_href": f"{here}/work-summary",
        "list_href": f"/{code}/unit-reports",
        "exports": {"xlsx": f"{api}/statistics.xlsx", "csv": f"{api}/statistics.csv"},
        **_window(page, campaign),
    }


def _statistics_context(
    page: Page, runtime: TenantRuntime, name: str, unit: str, campaign: Campaign, saved: bool
) -> dict[str, Any]:
    speaker = page.speaker
    return {
        **_base(page, runtime, name, unit, campaign),
        "items": items_of(campaign.programme),
        "rate_formulas": rates_of(campaign.programme),
        "qc": campaign.programme is not Programme.TEAM,
        "review_forms": [
            (f, speaker.gettext(REVIEW_FORM_LABELS[f])) for f in review_forms_of(campaign.programme)
        ],
        "contact_fields": [(k, speaker.gettext(label)) for k, label in CONTACT],
        "meeting_counts": [(k, speaker.gettext(label)) for k, label in MEETING_COUNTS],
        "saved": saved,
    }


def _statistics_fields(values: StatisticsValues | None, lines: int) -> tuple[str, ...]:
    figures = tuple(f"figures.{n}" for n in (values.figures if values else {}))
    return (
        *figures,
        "figures",
        "enterprises",
        *(f"enterprises[{i}]" for i in range(lines)),
        "review_forms",
        "meeting.held",
        "meeting.date",
        "meeting.place",
        *(f"meeting.{n}" for n, _ in MEETING_COUNTS),
        *(f"contact.{k}" for k, _ in CONTACT),
    )


def _table(runtime: TenantRuntime, campaign_id: UUID, unit: str) -> StatisticsTable | None:
    try:
        return runtime.ledger.get_statistics(campaign_id, unit)
    except StatisticsNotFound:
        return None


def _summary(runtime: TenantRuntime, campaign_id: UUID, unit: str) -> WorkSummary | None:
    try:
        return runtime.ledger.get_summary(campaign_id, unit)
    except WorkSummaryNotFound:
        return None


def _summary_context(
    page: Page, runtime: TenantRuntime, name: str, unit: str, campaign: Campaign, saved: bool
) -> dict[str, Any]:
    speaker = page.speaker
    return {
        **_base(page, runtime, name, unit, campaign),
        "sections": [
            (f"section{i}", heading, speaker.gettext(label))
            for i, (heading, label) in enumerate(zip(SECTION_HEADINGS, SECTION_NAMES, strict=True))
        ],
        "min_chars": campaign.rules.work_summary_min_chars,
        "saved": saved,
    }


def _rates_shown(rates: dict[str, Decimal | None]) -> dict[str, str]:
    return {k: "—" if v is None else str(v) for k, v in rates.items()}


class UnitReportPages(Controller):
    path = "/{tenant:str}"
    include_in_schema = False

    @get(
        "/unit-reports",
        operation_id="portalUnitReports",
        sync_to_thread=True,
        opt=access(UNIT_PAGES),
    )
    def reports(
        self,
        request: Request[Any, Any, Any],
        records: NamedDependency[Records],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
    ) -> Template:
        """The unit's campaigns, each with its 统计表 and 工作总结 and whether they are saved."""
        page = Page(request, runtime.tenant)
        units = sorted(records.units())
        if not units:
            raise not_found("unit")
        code = runtime.tenant.code
        rows = []
        for summary in list_campaigns(views.db("campaign_list")):
            if summary.status == "archived":
                continue
            campaign_id = UUID(summary.campaign_id)
            for unit in units:
                name = records.unit_name(runtime, unit, own=True)
                here = f"/{code}/units/{unit}/campaigns/{campaign_id}"
                rows.append(
                    {
                        "title": summary.title,
                        "programme": labels.programme(page.speaker, summary.programme),
                        "unit_name": name,
                        "statistics": f"{here}/statistics",
                        "summary": f"{here}/work-summary",
                        "statistics_saved": _table(runtime, campaign_id, unit) is not None,
                        "summary_saved": _summary(runtime, campaign_id, unit) is not None,
                    }
                )
        return page.render("unit_reports/index.html", rows=rows)

    @get(
        "/units/{unit:str}/campaigns/{campaign_id:uuid}/statistics",
        operation_id="portalUnitStatistics",
        sync_to_thread=True,
        opt=access(UNIT_PAGES),
    )
    def statistics_page(
        self,
        request: Request[Any, Any, Any],
        unit: FromPath[str],
        campaign_id: FromPath[UUID],
        records: NamedDependency[Records],
        runtime: NamedDependency[TenantRuntime],
    ) -> Template:
        name, campaign = _own(records, runtime, unit, campaign_id)
        page = Page(request, runtime.tenant)
        table = _table(runtime, campaign_id, unit)
        saved = request.query_params.get("saved") == "1" and table is not None
        values = StatisticsValues.of(campaign.programme, table)
        rates = table.form.figures.rates() if table else dict.fromkeys(rates_of(campaign.programme))
        return page.render(
            "unit_reports/statistics.html",
            **_statistics_context(page, runtime, name, unit, campaign, saved),
            values=values,
            rates=_rates_shown(rates),
            lines=enterprise_lines(values["enterprises"]),
            recorded=table is not None,
            version=table.version if table else 0,
            problems={},
            general_problems=[],
        )

    @post(
        "/units/{unit:str}/campaigns/{campaign_id:uuid}/statistics",
        operation_id="portalRecordUnitStatistics",
        opt=access(UNIT_PAGES),
    )
    async def record_statistics(
        self,
        request: Request[Any, Any, Any],
        unit: FromPath[str],
        campaign_id: FromPath[UUID],
        records: NamedDependency[Records],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        posted = await request.form()
        version = _version(str(posted.get("version", "")))

        def run() -> Redirect:
            name, campaign = _own(records, runtime, unit, campaign_id)
            page = Page(request, runtime.tenant)
            values = StatisticsValues(posted, campaign.programme)
            lines = enterprise_lines(values.enterprises)
            request.state.form = FormState(
                template="unit_reports/statistics.html",
                fields=_statistics_fields(values, len(lines)),
                values=values.shown(),
                context={
                    **_statistics_context(page, runtime, name, unit, campaign, False),
                    "rates": _rates_shown(values.rates()),
                    "lines": lines,
                    "recorded": _table(runtime, campaign_id, unit) is not None,
                    "version": "" if version is None else version,
                },
                page=page,
                on_refusal=lambda found: {
                    "line_words": line_words(page.speaker, lines, found),
                    **_now_at(found, lambda: _table(runtime, campaign_id, unit)),
                },
            )
            runtime.ledger.record_statistics(campaign_id, unit, values.to_form(), actor, version)
            here = f"/{runtime.tenant.code}/units/{unit}/campaigns/{campaign_id}/statistics"
            return Redirect(f"{here}?saved=1", status_code=303)

        return await sync_to_thread(run)

    @post(
        "/units/{unit:str}/campaigns/{campaign_id:uuid}/statistics/enterprises",
        operation_id="portalCheckUnitEnterprises",
        opt=access(UNIT_PAGES),
    )
    async def check_enterprises(
        self,
        request: Request[Any, Any, Any],
        unit: FromPath[str],
        campaign_id: FromPath[UUID],
        records: NamedDependency[Records],
        runtime: NamedDependency[TenantRuntime],
    ) -> Template:
        """htmx: the pasted list checked as typed, each line's problems (the domain's rule)."""
        posted = await request.form()
        text = str(posted.get("enterprises", ""))

        def run() -> Template:
            _own(records, runtime, unit, campaign_id)
            page = Page(request, runtime.tenant)
            lines = enterprise_lines(text)
            found = enterprise_list_problems([code for _, code in lines])
            problems: dict[str, list[str]] = {}
            for problem in found:
                problems.setdefault(problem.field, []).append(labels.problem(page.speaker, problem))
            return page.render(
                "unit_reports/_enterprises.html",
                lines=lines,
                problems=problems,
                line_words=line_words(page.speaker, lines, tuple(found)),
                checked=True,
            )

        return await sync_to_thread(run)

    @get(
        "/units/{unit:str}/campaigns/{campaign_id:uuid}/work-summary",
        operation_id="portalUnitWorkSummary",
        sync_to_thread=True,
        opt=access(UNIT_PAGES),
    )
    def summary_page(
        self,
        request: Request[Any, Any, Any],
        unit: FromPath[str],
        campaign_id: FromPath[UUID],
        records: NamedDependency[Records],
        runtime: NamedDependency[TenantRuntime],
    ) -> Template:
        name, campaign = _own(records, runtime, unit, campaign_id)
        page = Page(request, runtime.tenant)
        summary = _summary(runtime, campaign_id, unit)
        sections = sections_of(summary.text) if summary else ["", "", ""]
        return page.render(
            "unit_reports/work_summary.html",
            **_summary_context(
                page, runtime, name, unit, campaign, request.query_params.get("saved") == "1"
            ),
            values={f"section{i}": text for i, text in enumerate(sections)},
            counted=counted_characters(compose(sections)),
            version=summary.version if summary else 0,
            problems={},
            general_problems=[],
        )

    @post(
        "/units/{unit:str}/campaigns/{campaign_id:uuid}/work-summary",
        operation_id="portalWriteUnitWorkSummary",
        opt=access(UNIT_PAGES),
    )
    async def write_summary(
        self,
        request: Request[Any, Any, Any],
        unit: FromPath[str],
        campaign_id: FromPath[UUID],
        records: NamedDependency[Records],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        posted = await request.form()
        sections = [str(posted.get(f"section{i}", "")) for i in range(len(SECTION_HEADINGS))]
        version = _version(str(posted.get("version", "")))

        def run() -> Redirect:
            name, campaign = _own(records, runtime, unit, campaign_id)
            page = Page(request, runtime.tenant)
            text = compose(sections)
            request.state.form = FormState(
                template="unit_reports/work_summary.html",
                fields=("text", "section0", "section1", "section2"),
                values={f"section{i}": s for i, s in enumerate(sections)},
                context={
                    **_summary_context(page, runtime, name, unit, campaign, False),
                    "counted": counted_characters(text),
                    "version": "" if version is None else version,
                },
                page=page,
                on_refusal=lambda found: {
                    "messages": _summary_words(page.speaker, text, campaign),
                    **_now_at(found, lambda: _summary(runtime, campaign_id, unit)),
                },
            )
            # The domain's problems, each beside the section it names (the length beside the count).
            found = summary_problems(text, campaign.rules.work_summary_min_chars)
            if found:
                raise RequestProblem(422, *(_beside_section(p) for p in found))
            runtime.ledger.write_summary(campaign_id, unit, text, actor, version)
            here = f"/{runtime.tenant.code}/units/{unit}/campaigns/{campaign_id}/work-summary"
            return Redirect(f"{here}?saved=1", status_code=303)

        return await sync_to_thread(run)


def line_words(
    speaker: Speaker, lines: list[tuple[int, str]], problems: tuple[Problem, ...]
) -> dict[str, list[str]]:
    """In English, each pasted line's problems in words that name its own code (the domain's
    Chinese carries the values; the catalog has them by rule)."""
    if not speaker.english:
        return {}
    found: dict[str, list[str]] = {}
    for problem in problems:
        if not problem.field.startswith("enterprises["):
            continue
        index = int(problem.field[len("enterprises[") : -1])
        code = lines[index][1] if index < len(lines) else ""
        words = in_english(speaker, (problem,), code)
        text = words.get(problem.rule) or labels.problem(speaker, problem)
        found.setdefault(problem.field, []).append(text)
    return found


def _summary_words(speaker: Speaker, text: str, campaign: Campaign) -> dict[str, str]:
    if not speaker.english:
        return {}
    return {
        "min_length": speaker.gettext("工作总结须 %(min)s 字以上，现 %(n)s 字")
        % {"min": campaign.rules.work_summary_min_chars, "n": counted_characters(text)}
    }


def _now_at(
    found: tuple[Problem, ...], current: Callable[[], StatisticsTable | WorkSummary | None]
) -> dict[str, Any]:
    """After a stale save, the form carries the version now saved: the user, who sees their
    input kept and the conflict named, saves again over it knowingly."""
    if not any(p.rule == "stale_version" for p in found):
        return {}
    saved = current()
    return {"version": saved.version if saved else 0}


def _version(value: str) -> int | None:
    """The version the form was read at (0: nothing saved yet); none when not given."""
    return int(value) if value.isdigit() else None


def _beside_section(problem: Problem) -> Problem:
    if problem.rule == "section_missing":
        for i, name in enumerate(SECTION_NAMES):
            if name in problem.message:
                return Problem(f"section{i}", problem.rule, problem.message)
    return problem
