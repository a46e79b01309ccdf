"""Statistics tables as the seeds' forms lay them out: one unit's table (统计表), a tenant's roll-up
of its units' tables, and the national roll-up counting QC groups in 万个 (CAQ's form), with the
per-unit lines and what was deducted (扣除行业直属企业数据) on sheets of their own."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from aggregates.campaign import Campaign, Programme
from aggregates.statistics_table import Meeting, StatisticsTable
from projections.campaign_figures import CampaignFigures
from projections.statistics_rollup import Number, RollUp, in_10k

Items = list[tuple[str, str, object]]

FIGURE_LABELS = {
    "employees": "职工总数（人）",
    "registered_all_years": "历年累计注册 QC 小组数（个）",
    "registered_this_year": "本年度注册 QC 小组数（个）",
    "participants": "参加 QC 小组人数（人）",
    "active_groups": "坚持活动的 QC 小组数（个）",
    "groups_with_results": "取得成果小组数（个）",
    "benefit_all_years_10k": "历年累计经济效益（万元）",
    "benefit_this_year_10k": "本年度经济效益（万元）",
    "spending_10k": "经费投入（万元）",
    "rewards_10k": "奖励费用（万元）",
    "certified_reviewers": "中国质协评委证书人数（人）",
    "teams_this_year": "本年度开展班组数（个）",
    "teams_all_years": "历年班组累计数（个）",
    "participating_staff": "参与员工数（人次）",
    "teams_recommended": "推荐班组数（个）",
}
"""Each figure's name on the forms, with its unit (for the per-unit lines and deductions)."""


def period(start: date, end: date) -> str:
    return f"（{start.year} 年 {start.month} 月至 {end.year} 年 {end.month} 月）"


def _percent(value: Decimal | None) -> str:
    return "—" if value is None else f"{value}%"


def _qc_items(
    figures: Mapping[str, Any],
    rates: Mapping[str, Decimal | None],
    enterprises: int,
    review_forms: str,
) -> Items:
    """附件6 (上海市质量管理小组活动成果统计表), in units (个)."""
    return [
        ("企业总数（附清单）", "个", enterprises),
        ("职工总数", "人", figures["employees"]),
        ("历年来累计已登记注册 QC 小组数", "个", figures["registered_all_years"]),
        ("本年度已登记注册 QC 小组数", "个", figures["registered_this_year"]),
        ("本年度注册参加 QC 小组人数", "人", figures["participants"]),
        (
            "本年度 QC 小组普及率 = 参加 QC 小组人数 / 职工总数 × 100%",
            "%",
            _percent(rates["coverage"]),
        ),
        ("本年度坚持活动的 QC 小组数", "个", figures["active_groups"]),
        ("历年来累计 QC 小组创可计算的经济效益", "万元", figures["benefit_all_years_10k"]),
        ("本年度 QC 小组创可计算的经济效益", "万元", figures["benefit_this_year_10k"]),
        (
            "本年度 QC 小组成果率 = 取得成果小组数 / QC 小组注册数 × 100%",
            "%",
            _percent(rates["result_rate"]),
        ),
        (
            "本年度 QC 小组活动率 = 能坚持活动小组数 / QC 小组注册数 × 100%",
            "%",
            _percent(rates["activity_rate"]),
        ),
        (
            "本年度企业对 QC 小组活动经费投入（培训、交流、书籍等费用）",
            "万元",
            figures["spending_10k"],
        ),
        ("本年度企业对 QC 小组活动奖励费用", "万元", figures["rewards_10k"]),
        ("QC 小组评审及交流形式", "", review_forms),
        ("取得中国质协评委证书人数", "人", figures["certified_reviewers"]),
    ]


def _national_qc_items(figures: Mapping[str, Number], rates: Mapping[str, Decimal | None]) -> Items:
    """附件3 (中国质协 质量管理小组活动统计表): QC groups in 万个."""
    return [
        ("历年来累计已登记注册 QC 小组数", "万个", in_10k(figures["registered_all_years"])),
        ("本年度已登记注册 QC 小组数", "万个", in_10k(figures["registered_this_year"])),
        (
            "本年度 QC 小组普及率=参加 QC 小组人数/职工总数×100%",
            "百分数",
            _percent(rates["coverage"]),
        ),
        ("本年度坚持活动的 QC 小组数", "万个", in_10k(figures["active_groups"])),
        ("历年来累计 QC 小组创可计算的经济效益", "万元", figures["benefit_all_years_10k"]),
        ("本年度 QC 小组创可计算的经济效益", "万元", figures["benefit_this_year_10k"]),
        (
            "本年度 QC 小组成果率=取得成果小组数/QC 小组注册数×100%",
            "百分数",
            _percent(rates["result_rate"]),
        ),
        (
            "本年度企业对 QC 小组活动经费投入(培训、交流、书籍等费用)",
            "万元",
            figures["spending_10k"],
        ),
        ("本年度企业对 QC 小组活动奖励费用", "万元", figures["rewards_10k"]),
    ]


def _team_items(figures: Mapping[str, Any], enterprises: int, review_forms: str) -> Items:
    """附件2-2 (上海市“质量信得过班组”活动统计表)."""
    return [
        ("本年度开展质量信得过班组企业数", "个", enterprises),
        ("本年度开展质量信得过班组数", "个", figures["teams_this_year"]),
        ("历年质量信得过班组累计数", "个", figures["teams_all_years"]),
        ("本年度参与质量信得过班组活动员工数", "人次", figures["participating_staff"]),
        ("本年度推荐质量信得过班组数", "个", figures["teams_recommended"]),
        (
            "本年度对质量信得过班组活动经费投入（培训、交流、规范化等）",
            "万元",
            figures["spending_10k"],
        ),
        ("本年度对质量信得过班组活动奖励费用", "万元", figures["rewards_10k"]),
        ("质量信得过班组评审及交流形式", "", review_forms),
    ]


def _meeting_rows(
    held: str, when: str, place: str, counts: Mapping[str, object]
) -> list[list[object]]:
    return [
        ["是否组织发表会", held, "发表会时间", when, "发表会地点", place],
        [
            "发表报名数",
            counts["entered"],
            "发表数",
            counts["presented"],
            "参会人数",
            counts["attendance"],
        ],
    ]


def statistics_rows(
    campaign: Campaign, unit_name: str, table: StatisticsTable
) -> list[list[object]]:
    """One recommending unit's table."""
    form = table.form
    figures = vars(form.figures)
    forms = "、".join(form.review_forms)
    if campaign.programme is Programme.TEAM:
        items = _team_items(figures, len(form.enterprises), forms)
    else:
        items = _qc_items(figures, form.figures.rates(), len(form.enterprises), forms)
    meeting: Meeting = form.meeting
    return [
        [f"{campaign.title}成果统计表"],
        [period(table.period_start, table.period_end)],
        [f"推荐单位（单位公章）：{unit_name}"],
        ["序号", "统计项目", "单位", "数量"],
        *([i, label, unit, value] for i, (label, unit, value) in enumerate(items, 1)),
        *_meeting_rows(
            "是" if meeting.held else "否",
            meeting.date.isoformat() if meeting.date else "",
            meeting.place,
            vars(meeting),
        ),
    ]


def rollup_rows(
    campaign: Campaign, tenant_name: str, rollup: RollUp, national: bool, reported: str
) -> list[list[object]]:
    """The tenant's (or the national) roll-up on the form of a unit's table."""
    if campaign.programme is Programme.TEAM:
        items = _team_items(rollup.figures, rollup.enterprises, "")
    elif national:
        items = _national_qc_items(rollup.figures, rollup.rates)
    else:
        items = _qc_items(rollup.figures, rollup.rates, rollup.enterprises, "")
    rows: list[list[object]] = [
        [f"{campaign.title}活动统计表（汇总）"],
        [period(campaign.period_start, campaign.period_end)],
        [f"汇总单位：{tenant_name}（{reported}）"],
        ["序号", "统计项目", "单位", "数量"],
        *([i, label, unit, value] for i, (label, unit, value) in enumerate(items, 1)),
        *_meeting_rows(f"{rollup.meetings_held} 个单位举办", "", "", rollup.meeting),
    ]
    if national:
        rows.append(["企业总数（每家企业只计一次）", rollup.enterprises, "个"])
    rows.append(["注：本表由各推荐单位统计表汇总，比率按汇总后的数量计算（不取平均）。"])
    if rollup.deductions:
        rows.append(
            [
                f"各省市质协数据已扣除行业直属企业数据：{len(rollup.deductions)} 家"
                "（见“扣除行业直属企业”）。"
            ]
        )
    return rows


def rollup_unit_rows(rollup: RollUp, labels: Mapping[str, str]) -> list[list[object]]:
    """One line per unit: its counted share (after deductions)."""
    names = list(rollup.units[0].figures) if rollup.units else []
    rows: list[list[object]] = [
        ["推荐单位", "企业数", *(labels.get(n, n) for n in names), "扣除企业数"]
    ]
    rows += [
        [line.unit_name, line.enterprises, *(line.figures[n] for n in names), line.deducted]
        for line in rollup.units
    ]
    return rows


def deduction_rows(
    rollup: RollUp, unit_names: Mapping[str, str], labels: Mapping[str, str]
) -> list[list[object]]:
    rows: list[list[object]] = [
        ["统一社会信用代码", "企业名称", "扣除自", "行业直属于", "扣除的数据", "数据来源"]
    ]
    for d in rollup.deductions:
        figures = (
            "；".join(f"{labels.get(k, k)} {v}" for k, v in d.figures.items())
            if d.figures
            else "未分项填报，仅扣除企业数"
        )
        source = {"association": "省市质协分项", "industry": "行业质协分项"}.get(
            d.source or "", "—"
        )
        rows.append(
            [
                d.credit_code,
                d.name,
                unit_names.get(d.unit, d.unit),
                "、".join(unit_names.get(u, u) for u in d.direct_under),
                figures,
                source,
            ]
        )
    return rows


STAGE_LABELS = (
    ("registrations", "报名数"),
    ("submissions", "申报数"),
    ("recommended", "推荐数"),
    ("formal_passed", "形式审查通过"),
    ("formal_rejected", "形式审查不通过"),
    ("graded", "获评数"),
    ("forwarded", "推荐全国"),
    ("national_graded", "全国获评"),
)
RATE_LABELS = (
    ("recommendation_rate", "推荐率"),
    ("formal_pass_rate", "形式审查通过率"),
    ("grading_rate", "获评率"),
    ("forwarding_rate", "推荐全国率"),
    ("national_grading_rate", "全国获评率"),
)


def figures_rows(
    found: CampaignFigures,
    grade_names: Mapping[str, str],
    label: Callable[[str | None], str | None],
) -> list[list[object]]:
    """The platform's figures of a campaign, one line per group and a total line."""
    rows: list[list[object]] = [
        [f"{found.title}活动统计（平台数据）"],
        [
            "分组",
            *(name for _, name in STAGE_LABELS),
            *grade_names.values(),
            *(name for _, name in RATE_LABELS),
            "上年申报数",
            "申报数同比",
        ],
    ]
    for name, group in [(label(g.key), g) for g in found.groups] + [("合计", found.totals)]:
        figures = group.figures
        rates = figures.rates()
        rows.append(
            [
                name,
                *(
                    "—" if getattr(figures, s) is None else getattr(figures, s)
                    for s, _ in STAGE_LABELS
                ),
                *(figures.grades.get(code, 0) for code in grade_names),
                *(_percent(rates[r]) for r, _ in RATE_LABELS),
                group.previous.submissions if group.previous else "—",
                _percent(group.changes().get("submissions")) if group.previous else "—",
            ]
        )
    return rows


def blank_statistics_rows(campaign: Campaign) -> list[list[object]]:
    """A unit's table with nothing filled in (the form the notice attaches, to download)."""
    empty: dict[str, object] = dict.fromkeys(FIGURE_LABELS, "")
    if campaign.programme is Programme.TEAM:
        items = _team_items(empty, 0, "")
    else:
        items = _qc_items(empty, dict.fromkeys(("coverage", "result_rate", "activity_rate")), 0, "")
    return [
        [f"{campaign.title}成果统计表"],
        [period(campaign.period_start, campaign.period_end)],
        ["推荐单位（单位公章）："],
        ["序号", "统计项目", "单位", "数量"],
        *(
            [i, label, unit, "" if i == 1 else value]
            for i, (label, unit, value) in enumerate(items, 1)
        ),
        *_meeting_rows("", "", "", {"entered": "", "presented": "", "attendance": ""}),
    ]
