"""Exports the users hand on or print: the recommendation form and the statistics table laid out
like the seeds' forms, as .xlsx (openpyxl) and CSV (UTF-8 with BOM, so Excel reads it)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import quote

from litestar import Response
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from aggregates.campaign import Campaign, Programme
from aggregates.statistics_table import QcFigures, StatisticsTable, TeamFiguresTable

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DECLARATION = (
    "本单位遵守群众性质量提升活动的有关规定，承诺遵守评审工作纪律，所提供的推荐申报材料真实有效，"
    "且不存在任何违反《中华人民共和国保守国家秘密法》等相关法律法规及侵犯他人知识产权的情形。"
    "如存在争议，将积极调查处理。如存在材料虚假或违纪行为，将承担相应责任。"
)


@dataclass(frozen=True)
class EntryLine:
    rank: int
    enterprise: str
    name: str
    """小组名称 or 班组名称"""
    detail: str
    """课题类型 (QC) or 班组人数 (team)"""
    score: Decimal
    reviewer: str
    evaluation: str


@dataclass(frozen=True)
class RecommendationSheet:
    campaign: Campaign
    unit_name: str
    entries: list[EntryLine]
    reviewers: list[dict[str, str]]
    filled_by: str
    phone: str
    filed: str


def recommendation_rows(sheet: RecommendationSheet) -> list[list[object]]:
    """The form as rows of cells, in the seeds' order; both exports write these."""
    team = sheet.campaign.programme is Programme.TEAM
    rows: list[list[object]] = [
        [f"{sheet.campaign.title}{'建设经验' if team else '成果'}推荐表"],
        [f"推荐单位（单位公章）：{sheet.unit_name}"],
        ["一、推荐目录"],
        [
            "排序",
            "企业名称",
            "班组名称" if team else "小组名称",
            "班组人数" if team else "课题类型",
            "打分",
            "评委",
        ],
    ]
    for e in sheet.entries:
        rows.append([e.rank, e.enterprise, e.name, e.detail, e.score, e.reviewer])
        rows.append(
            [
                f"成果评价（优势/不足之处，限 {sheet.campaign.rules.evaluation_max_chars} 字）",
                e.evaluation,
            ]
        )
    rows += [
        ["二、评委名单"],
        ["序号", "姓名", "工作单位", "TGQ 评委证书号" if team else "评委证书编号", "手机"],
    ]
    rows += [
        [i, r["name"], r["work_unit"], r["certificate_number"], r["mobile"]]
        for i, r in enumerate(sheet.reviewers, 1)
    ]
    rows += [
        ["三、推荐声明"],
        [DECLARATION],
        [f"填表人：{sheet.filled_by}", f"电话：{sheet.phone}", f"填表日期：{sheet.filed}"],
    ]
    return rows


def _period(table: StatisticsTable) -> str:
    return f"（{table.period_start.year} 年 {table.period_start.month} 月至 {table.period_end.year} 年 {table.period_end.month} 月）"


def _percent(value: Decimal | None) -> str:
    return "—" if value is None else f"{value}%"


def statistics_rows(
    campaign: Campaign, unit_name: str, table: StatisticsTable
) -> list[list[object]]:
    form = table.form
    figures = form.figures
    rows: list[list[object]] = [
        [f"{campaign.title}成果统计表"],
        [_period(table)],
        [f"推荐单位（单位公章）：{unit_name}"],
        ["序号", "统计项目", "单位", "数量"],
    ]
    items: list[tuple[str, str, object]]
    if isinstance(figures, QcFigures):
        rates = figures.rates()
        items = [
            ("企业总数（附清单）", "个", len(form.enterprises)),
            ("职工总数", "人", figures.employees),
            ("历年来累计已登记注册 QC 小组数", "个", figures.registered_all_years),
            ("本年度已登记注册 QC 小组数", "个", figures.registered_this_year),
            ("本年度注册参加 QC 小组人数", "人", figures.participants),
            (
                "本年度 QC 小组普及率 = 参加 QC 小组人数 / 职工总数 × 100%",
                "%",
                _percent(rates["coverage"]),
            ),
            ("本年度坚持活动的 QC 小组数", "个", figures.active_groups),
            ("历年来累计 QC 小组创可计算的经济效益", "万元", figures.benefit_all_years_10k),
            ("本年度 QC 小组创可计算的经济效益", "万元", figures.benefit_this_year_10k),
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
                figures.spending_10k,
            ),
            ("本年度企业对 QC 小组活动奖励费用", "万元", figures.rewards_10k),
            ("QC 小组评审及交流形式", "", "、".join(form.review_forms)),
            ("取得中国质协评委证书人数", "人", figures.certified_reviewers),
        ]
    else:
        assert isinstance(figures, TeamFiguresTable)  # noqa: S101 (the table's programme fixes it)
        items = [
            ("本年度开展质量信得过班组企业数", "个", len(form.enterprises)),
            ("本年度开展质量信得过班组数", "个", figures.teams_this_year),
            ("历年质量信得过班组累计数", "个", figures.teams_all_years),
            ("本年度参与质量信得过班组活动员工数", "人次", figures.participating_staff),
            ("本年度推荐质量信得过班组数", "个", figures.teams_recommended),
            (
                "本年度对质量信得过班组活动经费投入（培训、交流、规范化等）",
                "万元",
                figures.spending_10k,
            ),
            ("本年度对质量信得过班组活动奖励费用", "万元", figures.rewards_10k),
            ("质量信得过班组评审及交流形式", "", "、".join(form.review_forms)),
        ]
    rows += [[i, label, unit, value] for i, (label, unit, value) in enumerate(items, 1)]
    meeting = form.meeting
    rows += [
        [
            "发表会时间",
            meeting.date.isoformat() if meeting.date else "",
            "发表会地点",
            meeting.place,
        ],
        [
            "发表报名数",
            meeting.entered,
            "发表数",
            meeting.presented,
            "参会人数",
            meeting.attendance,
        ],
    ]
    return rows


def to_xlsx(
    title: str, rows: list[list[object]], extra: dict[str, list[list[object]]] | None = None
) -> bytes:
    book = Workbook()
    sheet: Worksheet = book.active  # type: ignore[assignment]
    sheet.title = title[:31]
    _fill(sheet, rows)
    sheet["A1"].font = Font(bold=True, size=14)
    for name, extra_rows in (extra or {}).items():
        _fill(book.create_sheet(name[:31]), extra_rows)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _fill(sheet: Worksheet, rows: list[list[object]]) -> None:
    for row in rows:
        sheet.append([float(v) if isinstance(v, Decimal) else v for v in row])
    for column, width in zip("ABCDEF", (8, 60, 24, 16, 10, 16), strict=True):
        sheet.column_dimensions[column].width = width
    for cells in sheet.iter_rows():
        for cell in cells:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def to_csv(rows: list[list[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def download(content: bytes, media_type: str, filename: str) -> Response[bytes]:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )
