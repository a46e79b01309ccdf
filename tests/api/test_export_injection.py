"""Exports that ran code (issue 16 §4): text a user typed comes out of every export as text, never
as a formula (.xlsx) or a cell a spreadsheet reads as one (CSV, the OWASP rule)."""

from __future__ import annotations

import csv
import io
from typing import Any

import openpyxl
import pytest
from litestar.testing import AsyncTestClient

from aggregates.actor import Role
from api.platform.exports import FORMULA_STARTS, to_csv, to_xlsx
from tests.api.conftest import sign_in
from tests.api.published_world import publish_campaign
from tests.api.test_recommendations import REVIEWER, form_url, statistics
from tests.api.test_submissions import SAQ, journey, qc_result
from tests.support import Clock

Client = AsyncTestClient[Any]
HYPERLINK = '=HYPERLINK("http://x","点击查看")'
CMD = "=cmd|' /C calc'!A0"
OTHERS = ("@SUM(A1)", "#N/A", "=1+1")
"""Other text a spreadsheet would read as a formula or an error."""
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_cells(response: Any) -> list[openpyxl.cell.cell.Cell]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(XLSX)
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def assert_text_only(response: Any, *typed: str) -> None:
    """No formula (nor error) cell at all; each `typed` text is in a text cell."""
    cells = xlsx_cells(response)
    formulas = [(c.coordinate, c.value) for c in cells if c.data_type in ("f", "e")]
    assert formulas == [], formulas
    texts = " ".join(str(c.value) for c in cells if c.data_type == "s")
    for text in typed:
        assert text in texts, (text, texts)


def assert_csv_safe(response: Any, *typed: str) -> None:
    assert response.status_code == 200, response.text
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    cells = [cell for row in rows for cell in row]
    dangerous = [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    assert dangerous == [], dangerous
    for text in typed:
        assert "'" + text in cells, (text, cells)


async def test_an_applicants_unit_name_and_topic_stay_text_in_every_export(
    anonymous: Client, clock: Clock
) -> None:
    published = await publish_campaign(
        anonymous, clock, "saq", units=("huangpu",), per_unit=2, names=(HYPERLINK, CMD)
    )
    headers = await sign_in(anonymous, "saq", Role.SECRETARIAT)
    base = f"{SAQ}/campaigns/{published.campaign_id}"

    results = await anonymous.get(f"{base}/results.xlsx", headers=headers)
    summary = await anonymous.get(f"{base}/rounds/initial/summary.xlsx", headers=headers)
    form_xlsx = await anonymous.get(f"{base}/units/huangpu/recommendation.xlsx", headers=headers)
    form_csv = await anonymous.get(f"{base}/units/huangpu/recommendation.csv", headers=headers)
    figures = [
        await anonymous.get(f"{base}/statistics.xlsx", params={"by": by}, headers=headers)
        for by in ("recommending_unit", "key_domain", "industry", "topic_type")
    ]

    assert_text_only(results, HYPERLINK, CMD)
    assert_text_only(summary, CMD)
    assert_text_only(form_xlsx, HYPERLINK)
    assert_csv_safe(form_csv, HYPERLINK)
    for response in figures:
        assert_text_only(response)


async def test_a_units_typed_text_stays_text_in_its_form_and_statistics_exports(
    client: Client,
) -> None:
    j = await journey(client)
    body = qc_result(group_name=HYPERLINK, topic_name=CMD)
    submission_id = await j.complete(body)
    assert (await j.submit(submission_id)).status_code == 200
    reviewer = {**REVIEWER, "name": OTHERS[0], "work_unit": OTHERS[1]}
    added = await client.post(
        f"{form_url(j)}/recommendation/reviewers", json=reviewer, headers=j.unit
    )
    assert added.status_code == 200, added.text
    entry = {
        "submission_id": submission_id,
        "score": "86",
        "evaluation": OTHERS[2],
        "reviewer": REVIEWER["certificate_number"],
    }
    recommended = await client.post(
        f"{form_url(j)}/recommendation/entries", json=entry, headers=j.unit
    )
    assert recommended.status_code == 200, recommended.text
    table = statistics()
    table["meeting"]["place"] = HYPERLINK
    recorded = await client.put(f"{form_url(j)}/statistics", json=table, headers=j.unit)
    assert recorded.status_code == 200, recorded.text
    campaign = f"{SAQ}/campaigns/{j.campaign['id']}"

    form_xlsx = await client.get(f"{form_url(j)}/recommendation.xlsx", headers=j.unit)
    form_csv = await client.get(f"{form_url(j)}/recommendation.csv", headers=j.unit)
    table_xlsx = await client.get(f"{form_url(j)}/statistics.xlsx", headers=j.unit)
    table_csv = await client.get(f"{form_url(j)}/statistics.csv", headers=j.unit)
    rollup = await client.get(f"{campaign}/statistics/roll-up.xlsx")

    assert_text_only(form_xlsx, HYPERLINK, *OTHERS)
    assert_csv_safe(form_csv, HYPERLINK, OTHERS[0], OTHERS[2])
    assert_text_only(table_xlsx, HYPERLINK)
    assert_csv_safe(table_csv, HYPERLINK)
    assert_text_only(rollup)


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_every_formula_start_is_written_as_text(start: str) -> None:
    typed = f"{start}1+1"
    content = to_xlsx("初评/复评[第1轮]", [[typed, "#DIV/0!", 3]], {"表?*": [[typed]]})
    book = openpyxl.load_workbook(io.BytesIO(content))
    cells = next(iter(book.active.iter_rows()))  # type: ignore[union-attr]
    written = to_csv([[typed, "普通文字", -3]]).decode("utf-8-sig")

    assert book.sheetnames == ["初评复评第1轮", "表"]
    assert [c.data_type for c in cells] == ["s", "s", "n"]
    assert str(cells[0].value).endswith("1+1") and cells[1].value == "#DIV/0!"
    assert next(csv.reader(io.StringIO(written))) == [f"'{typed}", "普通文字", "-3"]
