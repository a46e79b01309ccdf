"""A reviewer pool as an .xlsx workbook (评审专家库导入表): the blank template to fill in, and the
reading of a filled one into profiles, each row numbered as the spreadsheet numbers it. The rules
of a profile are the domain's (`ExpertProfile.problems`, `enrol_experts`): here only what a cell
cannot say (no date, no such column)."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from aggregates.actor import Actor
from aggregates.expert import Certificate, Expert, ExpertProfile
from aggregates.ledger.application import AssociationLedger
from aggregates.problems import Problem
from api.platform.errors import RequestProblem
from api.platform.exports import to_xlsx

TITLE = "评审专家库导入表"
COLUMNS = (
    ("name", "姓名"),
    ("work_unit", "工作单位"),
    ("work_unit_credit_code", "工作单位统一社会信用代码（可空）"),
    ("mobile", "手机"),
    ("certificate.kind", "证书类别"),
    ("certificate.number", "证书编号"),
    ("certificate.issuing_body", "发证机构"),
    ("certificate.level", "等级"),
    ("certificate.valid_until", "有效期至（如 2026-12-31）"),
)
"""Each column's field (as the domain names it in a problem) and its heading."""
MAX_ROWS = 2000
MAX_BYTES = 5 * 1024 * 1024


def template() -> bytes:
    """The blank workbook: a title row, then the headings; experts from the third row."""
    return to_xlsx(TITLE, [[TITLE], [heading for _, heading in COLUMNS]])


@dataclass(frozen=True)
class ReadPool:
    """What a file says: each readable row's profile by row number, and the problems of the
    rows that cannot be read."""

    rows: list[tuple[int, ExpertProfile]]
    unread: list[Problem]


def read_pool(content: bytes) -> ReadPool:
    """The experts of a filled workbook (a file that is not one, or lacks a column: refused)."""
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise RequestProblem(
            422, Problem("file", "xlsx", "请上传按模板填写的 .xlsx 文件")
        ) from None
    sheet = book.worksheets[0]
    lines = list(sheet.iter_rows(values_only=True, max_row=MAX_ROWS + 10))
    header = next(
        (i for i, line in enumerate(lines[:5]) if any(_text(v) == "证书编号" for v in line)), None
    )
    if header is None:
        raise RequestProblem(
            422, Problem("file", "columns", "没有找到“证书编号”等表头，请使用下载的模板")
        )
    if len(lines) - header - 1 > MAX_ROWS:
        raise RequestProblem(
            422, Problem("file", "too_many_rows", f"一次最多导入 {MAX_ROWS} 位专家")
        )
    rows: list[tuple[int, ExpertProfile]] = []
    unread: list[Problem] = []
    for offset, line in enumerate(lines[header + 1 :]):
        number = header + offset + 2  # as the spreadsheet numbers its rows
        cells = [_text(v) for v in line[: len(COLUMNS)]] + [""] * len(COLUMNS)
        if not any(cells[: len(COLUMNS)]):
            continue
        value = dict(zip((field for field, _ in COLUMNS), cells, strict=False))
        until = _date(line[8] if len(line) > 8 else None)
        if until is None:
            unread.append(
                Problem(
                    f"rows[{number}].certificate.valid_until",
                    "date_format",
                    "有效期应为日期，如 2026-12-31",
                )
            )
            continue
        rows.append(
            (
                number,
                ExpertProfile(
                    name=value["name"],
                    work_unit=value["work_unit"],
                    work_unit_credit_code=value["work_unit_credit_code"] or None,
                    mobile=value["mobile"],
                    certificate=Certificate(
                        value["certificate.kind"],
                        value["certificate.number"],
                        value["certificate.issuing_body"],
                        value["certificate.level"],
                        until,
                    ),
                ),
            )
        )
    return ReadPool(rows, unread)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a mobile number typed as a number
    return str(value).strip()


def _date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value).replace("/", "-").replace(".", "-")
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def import_pool(ledger: AssociationLedger, content: bytes, actor: Actor) -> list[Expert]:
    """A filled workbook enrolled: every row checked, all or none (the API's and the page's)."""
    if len(content) > MAX_BYTES:
        raise RequestProblem(413, Problem("file", "too_large", "文件不超过 5 MB"))
    read = read_pool(content)
    return ledger.enrol_experts(read.rows, actor, read.unread)
