"""The open-a-campaign form (开设活动): where its values start (last year's campaign of the
programme, its timeline shifted a year; or the seeds' defaults), and how the posted form becomes
the fields of the ledger's `open_campaign`. Every field is a string as the page shows it; the
rules are the domain's (`Campaign.open`, `CampaignRules`, `timeline_problems`), never repeated.
"""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import date, datetime, tzinfo
from functools import cache
from typing import Any

import msgspec

from aggregates.campaign import (
    Campaign,
    CampaignRules,
    Contact,
    InvalidCampaign,
    Phase,
    Programme,
    ScoreAggregation,
    Window,
)
from aggregates.problems import Problem
from api.demo.seeds import DEMO_FILE, DemoFile
from api.portal.labels import N_
from tenants.registry import Tenant

RULE_SECTIONS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        N_("申报与推荐数量"),
        (
            ("results_per_applicant_min", N_("每家申报单位至少申报成果数")),
            ("results_per_applicant_max", N_("每家申报单位至多申报成果数")),
            ("distinct_topic_types", N_("一家单位的多个成果课题类型须有所差异")),
            ("recommendations_per_applicant_max", N_("推荐单位对每家申报单位至多推荐数")),
            ("recommending_unit_quota", N_("每个推荐单位推荐总名额")),
        ),
    ),
    (
        N_("成果材料"),
        (
            ("members_max", N_("小组成员名单至多人数")),
            ("intro_min_chars", N_("小组简介至少字数")),
            ("intro_max_chars", N_("小组简介至多字数")),
            ("team_report_max_chars", N_("班组申报材料至多字数")),
            ("evaluation_max_chars", N_("推荐评价至多字数")),
            ("work_summary_min_chars", N_("工作总结至少字数")),
            ("accident_free_years", N_("班组须无质量、安全、环保事故的年数")),
        ),
    ),
    (
        N_("评分"),
        (
            ("score_max", N_("满分")),
            ("score_aggregation", N_("阶段得分的计算")),
        ),
    ),
    (
        N_("附件大小上限（MB）"),
        (
            ("max_mb_application_form", N_("盖章申报表")),
            ("max_mb_report", N_("成果报告")),
            ("max_mb_slides", N_("发表 PPT")),
            ("max_mb_video", N_("发表视频")),
            ("max_mb_evidence", N_("证实性材料")),
        ),
    ),
)
AGGREGATIONS = {
    ScoreAggregation.MEAN: N_("平均分"),
    ScoreAggregation.TRIMMED_MEAN: N_("去掉最高分和最低分后的平均分"),
}
OPTIONAL_RULES = frozenset(
    f.name for f in fields(CampaignRules) if "None" in str(f.type) or f.default is None
)
"""Rules that may be left empty: no limit."""
MINUTE = "%Y-%m-%dT%H:%M"
TEXT_FIELDS = (
    "title",
    "document_number",
    "theme",
    "co_organisers",
    "contact.person",
    "contact.phone",
    "contact.department",
    "contact.email",
    "contact.address",
    "contact.postcode",
    "period_start",
    "period_end",
)


def field_names() -> tuple[str, ...]:
    """Every name the form posts (and a problem can be shown beside)."""
    rules = tuple(f"rules.{f.name}" for f in fields(CampaignRules))
    windows = tuple(
        f"timeline.{phase}.{part}" for phase in Phase for part in ("on", "opens_at", "closes_at")
    )
    return ("programme", "year", "rehearsal", *TEXT_FIELDS, *rules, *windows)


# Where the values start.


def _shifted(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + years, day=28)


def _day_shifted(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _minute(moment: datetime | None, zone: tzinfo) -> str:
    return moment.astimezone(zone).strftime(MINUTE) if moment else ""


def _rule_values(rules: CampaignRules) -> dict[str, str]:
    values = {}
    for name, value in rules.to_state().items():
        if isinstance(value, bool):
            values[f"rules.{name}"] = "on" if value else ""
        else:
            values[f"rules.{name}"] = "" if value is None else str(value)
    return values


def _timeline_values(timeline: dict[Phase, Window], zone: tzinfo, years: int) -> dict[str, str]:
    values = {}
    for phase in Phase:
        window = timeline.get(phase)
        values[f"timeline.{phase}.on"] = "on" if window else ""
        opens = _shifted(window.opens_at, years) if window and window.opens_at else None
        closes = _shifted(window.closes_at, years) if window else None
        values[f"timeline.{phase}.opens_at"] = _minute(opens, zone)
        values[f"timeline.{phase}.closes_at"] = _minute(closes, zone)
    return values


def from_last_year(campaign: Campaign, zone: tzinfo) -> dict[str, str]:
    """Next year's campaign as last year's: its rules, co-organisers and contact; its timeline
    and statistics period shifted a year; its title and document number with the year moved."""
    year = campaign.year + 1

    def moved(text: str | None) -> str:
        return (text or "").replace(str(campaign.year), str(year))

    contact = campaign.contact
    return {
        "programme": campaign.programme.value,
        "year": str(year),
        "rehearsal": "",
        "title": moved(campaign.title),
        "document_number": moved(campaign.document_number),
        "theme": campaign.theme or "",
        "co_organisers": "\n".join(campaign.co_organisers),
        **{f"contact.{k}": contact.get(k, "") for k in Contact.__dataclass_fields__},
        "period_start": _day_shifted(campaign.period_start, 1).isoformat(),
        "period_end": _day_shifted(campaign.period_end, 1).isoformat(),
        **_rule_values(campaign.rules),
        **_timeline_values(campaign.timeline, zone, 1),
    }


@cache
def _seed_campaigns() -> DemoFile:
    return msgspec.toml.decode(DEMO_FILE.read_bytes(), type=DemoFile)


def from_seeds(tenant: Tenant, programme: Programme, year: int) -> dict[str, str]:
    """A campaign from the seeds' defaults: the programme's default rules, the tenant's contact,
    and the timeline of the seeds' campaign of the programme (the tenant's own, or else
    another's), moved to the year."""
    seeds = [c for c in _seed_campaigns().campaigns if c.programme is programme]
    own = [c for c in seeds if c.tenant == tenant.code]
    seed = max(own or seeds, key=lambda c: c.year, default=None)
    timeline = (
        {phase: w.to_window(tenant.zone) for phase, w in seed.timeline.items()} if seed else {}
    )
    shift = year - seed.year if seed else 0
    contact = msgspec.structs.asdict(tenant.contact) if tenant.contact else {}
    return {
        "programme": programme.value,
        "year": str(year),
        "rehearsal": "",
        "title": f"{year}年{tenant.short_name_zh}{_programme_title(programme)}",
        "document_number": "",
        "theme": "",
        "co_organisers": "\n".join(seed.co_organisers) if seed and own else "",
        **{f"contact.{k}": str(contact.get(k, "") or "") for k in Contact.__dataclass_fields__},
        "period_start": date(year - 1, 1, 1).isoformat(),
        "period_end": date(year - 1, 12, 31).isoformat(),
        **_rule_values(CampaignRules.defaults_for(programme)),
        **_timeline_values(timeline, tenant.zone, shift),
    }


def _programme_title(programme: Programme) -> str:
    return "质量管理小组活动" if programme is Programme.QC_GROUP else "“质量信得过班组”建设活动"


# The posted form.


def posted_values(data: Any) -> dict[str, str]:
    """The form as posted: every field as a string (an unchecked box is empty)."""
    values = {}
    for name in field_names():
        raw = data.get(name, "")
        values[name] = raw.strip() if isinstance(raw, str) and name != "co_organisers" else raw
        if not isinstance(values[name], str):
            values[name] = ""
    return values


def _int(values: dict[str, str], name: str, problems: list[Problem]) -> int | None:
    raw = values.get(name, "")
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        problems.append(Problem(name, "integer", "应为整数"))
        return None


def _day(values: dict[str, str], name: str, problems: list[Problem]) -> date | None:
    try:
        return date.fromisoformat(values.get(name, ""))
    except ValueError:
        rule = "required" if not values.get(name) else "date"
        problems.append(Problem(name, rule, "不能为空" if rule == "required" else "日期格式不正确"))
        return None


def _moment(value: str, name: str, zone: tzinfo, problems: list[Problem]) -> datetime | None:
    try:
        return datetime.fromisoformat(value).replace(tzinfo=zone)
    except ValueError:
        problems.append(Problem(name, "datetime", "时间格式不正确（如 2025-07-25 22:00）"))
        return None


def _rules(programme: Programme, values: dict[str, str], problems: list[Problem]) -> CampaignRules:
    """The rules as typed; the domain checks them when the campaign is opened or previewed."""
    changes: dict[str, Any] = {}
    for f in fields(CampaignRules):
        name = f"rules.{f.name}"
        default = getattr(CampaignRules.defaults_for(programme), f.name)
        if isinstance(default, bool) or f.name == "distinct_topic_types":
            changes[f.name] = values.get(name) == "on"
        elif f.name == "score_aggregation":
            raw = values.get(name, "")
            if raw in {a.value for a in ScoreAggregation}:
                changes[f.name] = ScoreAggregation(raw)
            else:
                problems.append(Problem(name, "not_in_list", "请从列表中选择"))
        else:
            number = _int(values, name, problems)
            if number is None and f.name not in OPTIONAL_RULES and not values.get(name):
                problems.append(Problem(name, "required", "不能为空"))
            changes[f.name] = number
    return replace(CampaignRules.defaults_for(programme), **changes)


def command_fields(values: dict[str, str], zone: tzinfo) -> dict[str, Any]:
    """The fields of `open_campaign` from the posted form; what cannot be read as its type is
    refused beside its field (the rules themselves are the domain's, when it opens)."""
    problems: list[Problem] = []
    try:
        programme = Programme(values.get("programme", ""))
    except ValueError:
        raise InvalidCampaign(Problem("programme", "not_in_list", "请从列表中选择")) from None
    year = _int(values, "year", problems)
    if year is None and not values.get("year"):
        problems.append(Problem("year", "required", "不能为空"))
    timeline: dict[Phase, Window] = {}
    for phase in Phase:
        if values.get(f"timeline.{phase}.on") != "on":
            continue
        opens_raw = values.get(f"timeline.{phase}.opens_at", "")
        closes_raw = values.get(f"timeline.{phase}.closes_at", "")
        opens = (
            _moment(opens_raw, f"timeline.{phase}.opens_at", zone, problems) if opens_raw else None
        )
        if not closes_raw:
            problems.append(Problem(f"timeline.{phase}.closes_at", "required", "请填写截止时间"))
            continue
        closes = _moment(closes_raw, f"timeline.{phase}.closes_at", zone, problems)
        if closes is not None:
            timeline[phase] = Window(opens_at=opens, closes_at=closes)
    rules = _rules(programme, values, problems)
    period_start = _day(values, "period_start", problems)
    period_end = _day(values, "period_end", problems)
    if problems or year is None or period_start is None or period_end is None:
        raise InvalidCampaign(*problems)
    contact = Contact(**{k: values.get(f"contact.{k}", "") for k in Contact.__dataclass_fields__})
    organisers = [line.strip() for line in values.get("co_organisers", "").splitlines()]
    return {
        "programme": programme,
        "year": year,
        "title": values.get("title", ""),
        "document_number": values.get("document_number") or None,
        "theme": values.get("theme") or None,
        "co_organisers": [name for name in organisers if name],
        "contact": contact,
        "period_start": period_start,
        "period_end": period_end,
        "rules": rules,
        "timeline": timeline,
    }


def beside_field(problem: Problem) -> str:
    """The form field a domain problem is shown beside."""
    field = problem.field
    if field.startswith("co_organisers"):
        return "co_organisers"
    if field == "timeline":
        return "timeline"
    return field
