"""The forms of the recommending unit's reports as the pages show and read them: the 统计表's
lines as the seed lays them out (QC and team), the values as typed (kept for showing again, read
into the domain's form with what does not read refused beside its field), and the 工作总结's
three sections composed into the one text the domain checks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from aggregates.campaign import Programme
from aggregates.credit_code import normalise
from aggregates.problems import Problem
from aggregates.statistics_table import (
    QC_RATES,
    REVIEW_FORMS,
    Meeting,
    QcFigures,
    StatisticsForm,
    StatisticsTable,
    TeamFiguresTable,
    rate,
)
from api.platform.errors import RequestProblem
from api.portal import labels

N_ = labels.N_

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
