"""A unit's 推荐表 imported from its own .xlsx export after editing it with openpyxl (issue 23),
on SQLite and PostgreSQL: a file with bad rows is refused whole, each row's problem named and
nothing stored; the fixed file is the form, by the form's rules."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import pytest
from litestar.testing import AsyncTestClient

from api.platform.exports import XLSX
from tests.api.test_recommendations import REVIEWER, filed_submissions, form_url, recommend
from tests.api.test_submissions import SAQ

pytestmark = pytest.mark.tenants("saq")

Client = AsyncTestClient[Any]
SECOND = {
    "name": "李华",
    "work_unit": "上海质量管理科学研究院",
    "certificate_number": "CAQ-QC-2021-0088",
    "mobile": "13912345678",
}


def rows_of(sheet: Any) -> dict[str, int]:
    """Where each part of the exported form starts (1-based rows)."""
    found = {}
    for number, row in enumerate(sheet.iter_rows(values_only=True), 1):
        if row[0] in ("排序", "序号", "三、推荐声明"):
            found.setdefault(str(row[0]), number)
    return found


def saved(book: Any) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def upload(client: Client, url: str, headers: dict[str, str], content: bytes) -> Any:
    return await client.post(
        f"{url}/import", content=content, headers={**headers, "content-type": XLSX}
    )


async def test_a_unit_imports_its_edited_export_and_a_bad_file_is_refused_whole(
    client: Client,
) -> None:
    j, (first, second) = await filed_submissions(client)
    url = f"{form_url(j)}/recommendation"
    await client.post(f"{url}/reviewers", json=REVIEWER, headers=j.unit)
    assert (await recommend(client, j, first, "86")).status_code == 200
    exported = await client.get(f"{url}.xlsx", headers=j.unit)
    book = openpyxl.load_workbook(io.BytesIO(exported.content))
    sheet = book.active
    at = rows_of(sheet)
    entry = at["排序"] + 1
    assert sheet.cell(entry, 7).value == "SAQ-2024-QC-0001"
    listed = await client.get(f"{SAQ}/campaigns/{j.campaign['id']}/submissions", headers=j.unit)
    serial_of_second = next(
        r["serial"] for r in listed.json()["items"] if r["submission_id"] == second
    )
    # The unit edits it: the first result's score, a second reviewer in the roster, the second
    # result added at rank 1 scored by the new reviewer (by name), the first moved to rank 2.
    sheet.insert_rows(entry + 2, 2)
    for column, value in enumerate(
        [
            1,
            "中国工商银行股份有限公司上海市分行",
            "柜面服务质量改进QC小组",
            "创新型",
            92,
            "李华",
            serial_of_second,
        ],
        1,
    ):
        sheet.cell(entry + 2, column).value = value
    sheet.cell(entry + 3, 1).value = "成果评价（优势/不足之处，限 300 字）"
    sheet.cell(entry + 3, 2).value = "创新点突出，推广价值高。"
    sheet.cell(entry, 1).value = 2
    sheet.cell(entry, 5).value = 88.5
    roster = rows_of(sheet)["序号"]
    sheet.insert_rows(roster + 2, 1)
    for column, value in enumerate(
        [2, SECOND["name"], SECOND["work_unit"], SECOND["certificate_number"], 13912345678], 1
    ):
        sheet.cell(roster + 2, column).value = value
    # ... with two mistakes: a score above the scale and a reviewer not in the roster.
    sheet.cell(entry + 2, 5).value = 120
    sheet.cell(entry, 6).value = "王五"
    refused = await upload(client, url, j.unit, saved(book))
    assert refused.status_code == 422, refused.text
    errors = {(e["field"], e["rule"]) for e in refused.json()["errors"]}
    assert (f"row{entry}.reviewer", "not_in_roster") in errors
    sheet.cell(entry, 6).value = "周敏"
    refused = await upload(client, url, j.unit, saved(book))
    assert refused.status_code == 422, refused.text
    assert [(e["field"], e["rule"]) for e in refused.json()["errors"]] == [
        (f"row{entry + 2}.score", "range")
    ]
    unchanged = (await client.get(url, headers=j.unit)).json()
    assert [e["score"] for e in unchanged["entries"]] == ["86"]  # nothing stored
    assert len(unchanged["reviewers"]) == 1

    sheet.cell(entry + 2, 5).value = 92
    imported = await upload(client, url, j.unit, saved(book))
    assert imported.status_code == 200, imported.text
    form = imported.json()
    assert [(e["submission_id"], e["score"], e["reviewer"]) for e in form["entries"]] == [
        (second, "92", SECOND["certificate_number"]),
        (first, "88.5", REVIEWER["certificate_number"]),
    ]
    assert form["entries"][0]["evaluation"] == "创新点突出，推广价值高。"
    assert [r["mobile"] for r in form["reviewers"]] == [REVIEWER["mobile"], SECOND["mobile"]]

    not_a_workbook = await upload(client, url, j.unit, b"not a workbook")
    assert not_a_workbook.status_code == 422
    assert not_a_workbook.json()["errors"][0]["rule"] == "not_xlsx"
    other_unit = await upload(client, f"{form_url(j, 'xuhui')}/recommendation", j.unit, saved(book))
    assert other_unit.status_code == 404
