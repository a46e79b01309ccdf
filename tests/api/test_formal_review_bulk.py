"""Bulk work of review over the API, on SQLite and PostgreSQL: formal review of several results
at once (each passing by its own event; one refused, none passes), and a reviewer pool imported
from its .xlsx template (any row wrong: the whole file refused with each row's problems)."""

from __future__ import annotations

import io
from datetime import date
from typing import Any
from uuid import UUID

import msgspec
import pytest
from openpyxl import load_workbook

from api.platform.exports import XLSX
from tenants.settings import Settings
from tests.api.review_world import SAQ, Client, build
from tests.api.test_review_journey import CHECKLIST
from tests.support import Clock, beijing

pytestmark = pytest.mark.tenants("saq")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, session_hours=24 * 365)


def rules_of(response: Any) -> list[tuple[str, str]]:
    return [(e["field"], e["rule"]) for e in response.json()["errors"]]


async def test_several_results_pass_formal_review_at_once_each_by_its_own_event(
    client: Client, clock: Clock
) -> None:
    w = await build(client, ("huangpu",))
    clock.now = beijing(2024, 3, 5, 10, 0)
    ids = [e.submission_id for e in w.entries]
    rejected = await client.post(
        f"{SAQ}/submissions/{ids[0]}/formal-review",
        json={"decision": "reject", "checklist": CHECKLIST, "reason": "成果取得时间超过两年"},
    )
    assert rejected.status_code == 200, rejected.text
    url = f"{w.base}/formal-review"

    refused = await client.post(url, json={"submissions": ids})
    assert refused.status_code == 409
    assert rules_of(refused) == [("submissions[0]", "not_reviewable")]
    untouched = (await client.get(f"{SAQ}/submissions/{ids[1]}")).json()
    assert untouched["formal_review"] is None

    passed = await client.post(url, json={"submissions": ids[1:]})
    assert passed.status_code == 200, passed.text
    assert [s["formal_review"] for s in passed.json()] == ["passed"] * 4
    assert [s["version"] for s in passed.json()] == [untouched["version"] + 1] * 4  # one event each
    ledger = client.app.state.platform.tenants["saq"].ledger
    for submission_id in ids[1:]:
        stored = ledger.get_submission(UUID(submission_id))
        assert stored.formal_review == "passed"

    again = await client.post(url, json={"submissions": ids[1:2]})
    assert rules_of(again) == [("submissions[0]", "not_reviewable")]
    empty = await client.post(url, json={"submissions": []})
    assert empty.status_code in (400, 422)


def pool_workbook(rows: list[list[object]]) -> bytes:
    template = load_workbook(io.BytesIO(TEMPLATE_CACHE[0]))
    sheet = template.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    template.save(buffer)
    return buffer.getvalue()


TEMPLATE_CACHE: list[bytes] = []


def expert_row(n: int, **changes: object) -> list[object]:
    row: dict[str, object] = {
        "name": f"导入评委{n}",
        "work_unit": f"上海某研究院{n}室",
        "credit_code": "",
        "mobile": 13900000000 + n,
        "kind": "上海市QC小组评审员",
        "number": f"IMP-2024-{n:04d}",
        "issuing_body": "上海市质量协会",
        "level": "评审员",
        "valid_until": date(2027, 6, 30),
    }
    row.update(changes)
    return list(row.values())


async def test_a_pool_is_imported_from_its_template_or_refused_whole_with_each_rows_problems(
    client: Client,
) -> None:
    template = await client.get(f"{SAQ}/experts/import-template.xlsx")
    assert template.status_code == 200
    assert template.headers["content-type"].startswith(XLSX)
    TEMPLATE_CACHE[:] = [template.content]
    headings = [c.value for c in load_workbook(io.BytesIO(template.content)).active[2]]  # type: ignore[index]
    assert "证书编号" in headings

    bad = pool_workbook(
        [
            expert_row(1),
            expert_row(2, mobile="0213"),
            expert_row(3, valid_until="明年"),
            expert_row(4, number="IMP-2024-0001"),
        ]
    )
    url = f"{SAQ}/experts/import"
    refused = await client.post(url, content=bad, headers={"content-type": XLSX})
    assert refused.status_code == 422, refused.text
    assert rules_of(refused) == [
        ("rows[4].mobile", "mobile_format"),
        ("rows[5].certificate.valid_until", "date_format"),
        ("rows[6].certificate.number", "unique"),
    ]
    assert (await client.get(f"{SAQ}/experts/IMP-2024-0001")).status_code == 404

    good = pool_workbook([expert_row(n) for n in range(1, 9)])
    imported = await client.post(url, content=good, headers={"content-type": XLSX})
    assert imported.status_code == 201, imported.text
    assert [e["certificate_number"] for e in imported.json()] == [
        f"IMP-2024-{n:04d}" for n in range(1, 9)
    ]
    listed = (await client.get(f"{SAQ}/experts")).json()
    assert {e["certificate_number"] for e in listed} >= {f"IMP-2024-{n:04d}" for n in range(1, 9)}

    twice = await client.post(url, content=good, headers={"content-type": XLSX})
    assert twice.status_code == 422
    assert rules_of(twice)[0] == ("rows[3].certificate.number", "already_enrolled")
    garbage = await client.post(url, content=b"not a workbook", headers={"content-type": XLSX})
    assert rules_of(garbage) == [("file", "xlsx")]
