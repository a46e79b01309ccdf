"""A small Shanghai-style campaign at the start of material review, for the round and reviewer
pages: 2 recommending units, 10 results past formal review, the pool of 12 reviewers of
`review_world` (with its conflicts), business time inside the material review window."""

from __future__ import annotations

import io
import re
from typing import Any

import msgspec
from openpyxl import Workbook, load_workbook

from tenants.settings import Settings
from tests.api.published_world import cheap_passwords
from tests.api.review_world import SAQ, Client, World, build
from tests.support import Clock, beijing

UNITS = ("huangpu", "xuhui")
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
CHECKLIST = {
    "盖章申报表齐全": True,
    "成果报告齐全": True,
    "成果为近两年内取得": True,
    "推荐单位评审组有持证评委": True,
}


def long_sessions(settings: Settings) -> Settings:
    """The campaign runs for weeks of business time; sessions last through it."""
    return msgspec.structs.replace(settings, session_hours=24 * 365)


async def passed_formal_review(client: Client, clock: Clock) -> World:
    """The world built, every result passed formal review, the clock in material review."""
    with cheap_passwords(client, "saq"):
        w = await build(client, UNITS)
    clock.now = beijing(2024, 3, 5, 10, 0)
    for e in w.entries:
        reviewed = await client.post(
            f"{SAQ}/submissions/{e.submission_id}/formal-review",
            json={"decision": "pass", "checklist": CHECKLIST},
        )
        assert reviewed.status_code == 200, reviewed.text
    clock.now = beijing(2024, 3, 20, 9, 0)
    return w


def csrf(text: str) -> str:
    found = TOKEN.search(text)
    assert found is not None
    return found.group(1)


def beside(text: str, field: str) -> str:
    found = re.search(rf'id="e-{re.escape(field)}">([^<]*)<', text)
    return found.group(1) if found else ""


def fill_form(content: bytes, scores: dict[tuple[str, str], dict[str, Any]]) -> bytes:
    """The exported paper-sheet form with rows filled: (serial, reviewer) → {column: value}."""
    book = load_workbook(io.BytesIO(content))
    sheet = book.active
    assert sheet is not None
    rows = list(sheet.iter_rows())
    header = [c.value for c in rows[2]]
    for row in rows[3:]:
        key = (str(row[1].value), str(row[4].value))
        for column, value in scores.get(key, {}).items():
            row[header.index(column)].value = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def not_a_workbook() -> bytes:
    book = Workbook()
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
