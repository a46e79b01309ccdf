"""Paper score sheets of a round in the layout of its 评审汇总表 (the sheets of a presentation
contest, typed in by the secretariat): the blank form exported for the round, and the file read
back row by row. Reading only turns cells into values; the domain checks every row
(`ReviewRound.file_paper_sheets`) and the whole file is refused if any row is wrong."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal, InvalidOperation

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from aggregates.campaign import Campaign
from aggregates.problems import Problem
from aggregates.review_round import PaperSheet, ReviewRound
from api.platform.exports import to_xlsx

FIXED = ("序号", "申报编号", "单位名称", "成果名称", "评委证书编号", "评委姓名")
TOTAL, COMMENT = "合计", "评语"
MAX_ROWS = 5000
"""More rows than any round has sheets: a larger file is refused before it is read."""


def criteria_of(review_round: ReviewRound) -> list[str]:
    """The criteria columns: every rubric of the round's, in the rubrics' order."""
    return list(dict.fromkeys(c for rubric in review_round.rubrics.values() for c in rubric))


def sheet_form_rows(campaign: Campaign, review_round: ReviewRound) -> list[list[object]]:
    """The blank form: one row per judge and result still without a sheet."""
    criteria = criteria_of(review_round)
    rows: list[list[object]] = [
        [f"{campaign.title}{review_round.name_zh}评审汇总表（纸质评分表录入）"],
        ["每行一张评分表：填写各项得分与合计（须等于各项之和），评委证书编号须为本轮已分配的评委"],
        [*FIXED, *criteria, TOTAL, COMMENT],
    ]
    entrants = sorted(review_round.entrants.values(), key=lambda e: e["serial"])
    names = review_round.reviewer_names()
    n = 0
    for entrant in entrants:
        key = str(entrant["submission_id"])
        for reviewer in review_round.assignments.get(key, []):
            if f"{key}/{reviewer}" in review_round.current:
                continue
            n += 1
            rows.append(
                [
                    n,
                    entrant["serial"],
                    entrant["unit_name"],
                    entrant["title"],
                    reviewer,
                    names.get(reviewer, ""),
                ]
            )
    return rows


def sheet_form_xlsx(campaign: Campaign, review_round: ReviewRound) -> bytes:
    return to_xlsx(f"{review_round.name_zh}评分表录入", sheet_form_rows(campaign, review_round))


def read_sheets(
    content: bytes, review_round: ReviewRound
) -> tuple[list[PaperSheet], list[Problem], int]:
    """The filled rows as paper sheets, the problems of cells that are not values, and how many
    rows were left blank (no score at all: not entered)."""
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError):
        return [], [Problem("file", "not_xlsx", "文件不是有效的 .xlsx 工作簿")], 0
    sheet = book.worksheets[0]
    if (sheet.max_row or 0) > MAX_ROWS:
        return [], [Problem("file", "too_many_rows", f"文件超过 {MAX_ROWS} 行")], 0
    rows: list[list[object]] = [list(r) for r in sheet.iter_rows(values_only=True)]
    book.close()
    header_at = next((i for i, r in enumerate(rows[:10]) if r and _text(r[0]) == FIXED[0]), None)
    if header_at is None:
        return [], [Problem("file", "no_header", "未找到表头行（以“序号”开头）")], 0
    header = [_text(c) for c in rows[header_at]]
    column = {name: i for i, name in enumerate(header) if name}
    missing = [name for name in ("申报编号", "评委证书编号") if name not in column]
    criteria = [c for c in criteria_of(review_round) if c in column]
    if missing or not criteria:
        return (
            [],
            [Problem("file", "no_column", f"缺少“{name}”列") for name in (missing or ["评分项"])],
            0,
        )
    sheets: list[PaperSheet] = []
    problems: list[Problem] = []
    blank = 0
    for offset, cells in enumerate(rows[header_at + 1 :], start=header_at + 2):

        def cell(name: str, cells: list[object] = cells) -> object:
            i = column.get(name)
            return cells[i] if i is not None and i < len(cells) else None

        scored = {c: cell(c) for c in criteria if _text(cell(c))}
        typed_total = cell(TOTAL)
        if not scored and not _text(typed_total):
            blank += 1 if _text(cell("申报编号")) else 0
            continue
        where = f"rows.{offset}"
        found = []
        values: dict[str, Decimal] = {}
        for name, raw in scored.items():
            number = _number(raw)
            if number is None:
                found.append(Problem(f"{where}.criteria.{name}", "not_a_number", "应为数字"))
            else:
                values[name] = number
        total = _number(typed_total) if _text(typed_total) else None
        if _text(typed_total) and total is None:
            found.append(Problem(f"{where}.total", "not_a_number", "应为数字"))
        for name, field in (("申报编号", "serial"), ("评委证书编号", "reviewer")):
            if not _text(cell(name)):
                found.append(Problem(f"{where}.{field}", "required", "不能为空"))
        if found:
            problems += found
            continue
        sheets.append(
            PaperSheet(
                row=offset,
                serial=_text(cell("申报编号")),
                reviewer=_text(cell("评委证书编号")),
                criteria=values,
                total=total,
                comment=_text(cell(COMMENT)),
            )
        )
    return sheets, problems, blank


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _number(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None
