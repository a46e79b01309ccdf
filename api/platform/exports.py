"""Exports the users hand on or print: the recommendation form laid out like the seeds' form, and
the writers every export shares: .xlsx (openpyxl) and CSV (UTF-8 with BOM, so Excel reads it).

Every export is written by `to_xlsx` or `to_csv`, and both write every text cell through
`text_cell` / `csv_text`: text a user typed (a unit named `=HYPERLINK(…)`) stays text in the
spreadsheet, never a formula (issue 16 §4)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from litestar import Response
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font
from openpyxl.workbook.child import INVALID_TITLE_REGEX
from openpyxl.worksheet.worksheet import Worksheet

from aggregates.campaign import Campaign, Programme

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DECLARATION = (
    "本单位遵守群众性质量提升活动的有关规定，承诺遵守评审工作纪律，所提供的推荐申报材料真实有效，"
    "且不存在任何违反《中华人民共和国保守国家秘密法》等相关法律法规及侵犯他人知识产权的情形。"
    "如存在争议，将积极调查处理。如存在材料虚假或违纪行为，将承担相应责任。"
)


SERIAL_HEADER = "编号"
"""The seed's six columns, then the result's 编号, by which an edited file is imported again."""


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
    serial: str = ""
    """The result's 编号: how an edited file names it when imported again (issue 23)."""


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
            SERIAL_HEADER,
        ],
    ]
    for e in sheet.entries:
        rows.append([e.rank, e.enterprise, e.name, e.detail, e.score, e.reviewer, e.serial])
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


def to_xlsx(
    title: str, rows: list[list[object]], extra: dict[str, list[list[object]]] | None = None
) -> bytes:
    book = Workbook()
    sheet: Worksheet = book.active  # type: ignore[assignment]
    sheet.title = sheet_title(title)
    _fill(sheet, rows)
    sheet["A1"].font = Font(bold=True, size=14)
    for name, extra_rows in (extra or {}).items():
        _fill(book.create_sheet(sheet_title(name)), extra_rows)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a CSV cell as a formula (OWASP, CSV injection)."""


def text_cell(cell: Cell, value: str) -> None:
    """Writes text into an .xlsx cell as text: never a formula or an error code (openpyxl makes
    one of a string starting with `=` or reading `#N/A`); characters XML cannot hold are left
    out."""
    cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell.data_type = "s"


def sheet_title(name: str) -> str:
    """A name (a round's, typed by the secretariat) as a sheet title: without the characters
    openpyxl refuses there, at most 31 characters."""
    return INVALID_TITLE_REGEX.sub("", name)[:31] or "表"


def csv_text(value: str) -> str:
    """Text as a CSV cell: one starting like a formula is prefixed with a quote (OWASP)."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _fill(sheet: Worksheet, rows: list[list[object]]) -> None:
    for r, row in enumerate(rows, 1):
        for c, value in enumerate(row, 1):
            cell: Any = sheet.cell(r, c)  # a row's values are whatever a cell can hold
            if isinstance(value, str):
                text_cell(cell, value)
            else:
                cell.value = float(value) if isinstance(value, Decimal) else value
    for column, width in zip("ABCDEFG", (8, 60, 24, 16, 10, 16, 20), strict=True):
        sheet.column_dimensions[column].width = width
    for cells in sheet.iter_rows():
        for cell in cells:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def to_csv(rows: list[list[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(
            ["" if v is None else csv_text(v) if isinstance(v, str) else v for v in row]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def download(content: bytes, media_type: str, filename: str) -> Response[bytes]:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )
