"""A unit's recommendation form (推荐表) imported from the .xlsx the platform exports, after the
unit edited it in Excel or WPS (issue 23): the file is read here into the form's roster and
ranked rows; the ledger applies them through the form's own commands (`import_recommendation`),
so every rule is the form's. What cannot even be read (a score that is not a number, an 编号 that
is not one of the unit's results) is refused here with its row; then the domain's refusals, each
with its row. Any refusal refuses the whole file: nothing is stored."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from itertools import islice
from typing import Any
from uuid import UUID

import openpyxl
from litestar.openapi.spec import OpenAPIMediaType as MediaType
from litestar.openapi.spec import Operation, RequestBody, Schema
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType
from openpyxl.utils.exceptions import InvalidFileException

from aggregates.actor import Actor
from aggregates.campaign import Campaign
from aggregates.problems import Problem
from aggregates.recommendation import Recommendation, Reviewer, SheetRow
from api.platform.errors import RequestProblem
from api.platform.exports import SERIAL_HEADER
from projections.service import READ_YOUR_WRITES_TIMEOUT, TenantViews
from projections.submission_list import SubmissionListProjection, list_submissions

IMPORT_MAX_BYTES = 5 * 1024 * 1024
"""An exported form is a few dozen kilobytes."""
MAX_ROWS = 2000
"""More rows than any unit's form has: a file beyond it is not the form."""


@dataclass
class XlsxUpload(Operation):
    """The import's request body in the OpenAPI document: the .xlsx file itself."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            content={
                "application/octet-stream": MediaType(
                    schema=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
                )
            },
            description="平台导出的推荐表 .xlsx（在 Excel/WPS 中编辑后上传）的原文件，不超过 5 MB；"
            "任何内容类型均可（如 application/octet-stream 或 .xlsx 的类型）",
            required=True,
        )


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a mobile number Excel turned into a number
    return str(value).strip()


def _problem(row: int, field: str, rule: str, message: str) -> Problem:
    return Problem(f"row{row}.{field}", rule, f"第 {row} 行：{message}")


def _cells(content: bytes) -> list[tuple[Any, ...]]:
    """The first sheet's rows of values, or a refusal naming the file."""
    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        sheet = book.worksheets[0]
        rows = [tuple(r) for r in islice(sheet.iter_rows(values_only=True), MAX_ROWS + 1)]
        book.close()
    except (zipfile.BadZipFile, InvalidFileException, KeyError, IndexError, ValueError, OSError):
        raise RequestProblem(
            422, Problem("file", "not_xlsx", "文件不是有效的 .xlsx 工作簿")
        ) from None
    if len(rows) > MAX_ROWS:
        raise RequestProblem(422, Problem("file", "too_many_rows", "文件行数过多，不是推荐表"))
    return [r + (None,) * (7 - len(r)) for r in rows]


def _roster(rows: list[tuple[Any, ...]], start: int) -> list[tuple[int, Reviewer]]:
    roster = []
    for number, row in enumerate(rows[start:], start + 1):
        if _text(row[0]).startswith("三、"):
            break
        name, work_unit, certificate, mobile = (_text(v) for v in row[1:5])
        if name or work_unit or certificate or mobile:
            roster.append((number, Reviewer(name, work_unit, certificate, mobile)))
    return roster


def read_form(
    content: bytes, campaign: Campaign, filed: dict[str, UUID]
) -> tuple[list[tuple[int, Reviewer]], list[SheetRow]]:
    """The file's roster (row, reviewer) and its entries in rank order, `filed` naming the
    unit's results by 编号; RequestProblem with every row's problem if any cannot be read."""
    rows = _cells(content)
    title = _text(rows[0][0]) if rows else ""
    header = next((i for i, r in enumerate(rows) if _text(r[0]) == "排序"), None)
    roster_at = next((i for i, r in enumerate(rows) if _text(r[0]) == "序号"), None)
    if not title.startswith(campaign.title) or header is None or roster_at is None:
        raise RequestProblem(
            422, Problem("file", "not_the_form", "文件不是本活动从平台导出的推荐表")
        )
    if _text(rows[header][6]) != SERIAL_HEADER:
        raise RequestProblem(
            422, Problem("file", "no_serial", "推荐目录缺少“编号”列，请使用平台导出的推荐表")
        )
    roster = _roster(rows, roster_at + 1)
    by_number = {r.certificate_number: r.certificate_number for _, r in roster}
    names: dict[str, list[str]] = {}
    for _, r in roster:
        names.setdefault(r.name, []).append(r.certificate_number)
    problems: list[Problem] = []
    ranked: list[tuple[Decimal, SheetRow]] = []
    i = header + 1
    while i < roster_at - 1:
        row, number = rows[i], i + 1
        evaluation_row = rows[i + 1] if _text(rows[i + 1][0]).startswith("成果评价") else None
        i += 2 if evaluation_row is not None else 1
        if _text(row[0]).startswith(("成果评价", "二、")) or not any(_text(v) for v in row):
            continue
        evaluation = _text(evaluation_row[1]) if evaluation_row is not None else ""
        found: list[Problem] = []
        try:
            rank = Decimal(_text(row[0]))
            score = Decimal(_text(row[4]))
            if not (rank.is_finite() and score.is_finite()):
                raise InvalidOperation
        except InvalidOperation:
            found.append(_problem(number, "score", "number", "排序和打分应为数字"))
            rank = score = Decimal(0)
        serial = _text(row[6])
        submission_id = filed.get(serial)
        if submission_id is None:
            found.append(
                _problem(
                    number,
                    "serial",
                    "not_filed_here",
                    f"编号“{serial}”不是向本推荐单位申报的成果" if serial else "请填写成果编号",
                )
            )
        named = _text(row[5])
        reviewer = by_number.get(named) or (
            names[named][0] if len(names.get(named, ())) == 1 else None
        )
        if reviewer is None:
            found.append(
                _problem(
                    number,
                    "reviewer",
                    "not_in_roster",
                    "评委须为本表评委名单中的一位（姓名或证书编号；同名时填证书编号）",
                )
            )
        problems += found
        if not found and submission_id is not None and reviewer is not None:
            ranked.append((rank, SheetRow(number, submission_id, score, evaluation, reviewer)))
    ranks = [rank for rank, _ in ranked]
    for rank, line in ranked:
        if ranks.count(rank) > 1:
            problems.append(_problem(line.row, "rank", "unique", f"排序 {rank} 重复"))
    if problems:
        raise RequestProblem(422, *problems)
    return roster, [line for _, line in sorted(ranked, key=lambda pair: pair[0])]


def filed_serials(views: TenantViews, campaign_id: UUID, unit: str) -> dict[str, UUID]:
    """The 编号 of every result filed (not drafted) under the unit in the campaign."""
    lists = views.runners[SubmissionListProjection.name]
    lists.wait(views.runtime.ledger.recorder.max_notification_id(), READ_YOUR_WRITES_TIMEOUT)
    rows = list_submissions(
        lists.db,
        campaign_id,
        filters={"recommending_unit": unit},
        include_drafts=False,
        limit=100_000,
    )
    return {r.serial: UUID(r.submission_id) for r in rows if r.serial}


def import_form(
    views: TenantViews,
    campaign_id: UUID,
    unit: str,
    content: bytes,
    actor: Actor,
    expected_version: int | None = None,
) -> Recommendation:
    """Read the file and apply it: the API's import and the 推荐表 page's upload alike."""
    ledger = views.runtime.ledger
    campaign = ledger.get_campaign(campaign_id)
    roster, rows = read_form(content, campaign, filed_serials(views, campaign_id, unit))
    return ledger.import_recommendation(campaign_id, unit, roster, rows, actor, expected_version)
