"""Paper score sheets imported from the round's 评审汇总表 layout, on SQLite and PostgreSQL: a
file with one bad row (and one more) is refused whole, each row's problem named, nothing stored;
the same file fixed is entered, each sheet marked as entered by the secretariat for its judge,
and the matrix marks them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aggregates.scoring import DEFAULT_RUBRICS
from tenants.settings import Settings
from tests.api.review_world import Client
from tests.api.rounds_world import fill_form, long_sessions, not_a_workbook, passed_formal_review
from tests.support import Clock

pytestmark = pytest.mark.tenants("saq")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return long_sessions(settings)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def test_a_file_with_a_bad_row_is_refused_whole_then_entered_once_fixed(
    client: Client, clock: Clock
) -> None:
    w = await passed_formal_review(client, clock)
    opened = await client.post(f"{w.base}/rounds/initial", json={})
    assert opened.status_code == 201, opened.text
    assigned = await client.post(f"{w.base}/rounds/initial/assignments/auto", json={})
    assert assigned.status_code == 200, assigned.text
    form = await client.get(f"{w.base}/rounds/initial/sheets/form.xlsx")
    assert form.status_code == 200 and form.headers["content-type"].startswith(XLSX)

    first, second = w.entries[0], w.entries[1]
    a, b = assigned.json()["assignments"][first.submission_id][:2]
    c = assigned.json()["assignments"][second.submission_id][0]

    def scores(entry_topic: str, total_offset: Decimal = Decimal(0)) -> dict[str, object]:
        criteria = {k: Decimal(v) // 2 for k, v in DEFAULT_RUBRICS[entry_topic].items()}
        return {
            **{k: float(v) for k, v in criteria.items()},
            "合计": float(sum(criteria.values(), Decimal(0)) + total_offset),
            "评语": "现场发表条理清楚",
        }

    good = scores(first.topic_type)
    wrong_total = scores(first.topic_type, Decimal(3))
    over = {**scores(second.topic_type), "选题": 99}
    bad = fill_form(
        form.content,
        {(first.serial, a): good, (first.serial, b): wrong_total, (second.serial, c): over},
    )
    refused = await client.post(
        f"{w.base}/rounds/initial/sheets/import", content=bad, headers={"content-type": XLSX}
    )
    assert refused.status_code == 422, refused.text
    problems = {(e["field"].split(".")[2], e["rule"]) for e in refused.json()["errors"]}
    assert ("total", "total_mismatch") in problems
    assert ("criteria", "range") in problems
    assert all(e["field"].startswith("rows.") for e in refused.json()["errors"])
    unchanged = await client.get(f"{w.base}/rounds/initial")
    assert unchanged.json()["sheets"] == []

    garbage = await client.post(
        f"{w.base}/rounds/initial/sheets/import",
        content=b"not a workbook",
        headers={"content-type": XLSX},
    )
    assert garbage.status_code == 422 and garbage.json()["errors"][0]["rule"] == "not_xlsx"
    headerless = await client.post(
        f"{w.base}/rounds/initial/sheets/import",
        content=not_a_workbook(),
        headers={"content-type": XLSX},
    )
    assert headerless.status_code == 422 and headerless.json()["errors"][0]["rule"] == "no_header"

    fixed = fill_form(
        form.content,
        {
            (first.serial, a): good,
            (first.serial, b): scores(first.topic_type),
            (second.serial, c): scores(second.topic_type),
        },
    )
    entered = await client.post(
        f"{w.base}/rounds/initial/sheets/import", content=fixed, headers={"content-type": XLSX}
    )
    assert entered.status_code == 200, entered.text
    body = entered.json()
    assert body["filed"] == 3 and body["blank"] == 40 - 3
    assert {s["entered_by"] for s in body["round"]["sheets"]} == {"secretariat"}
    assert {s["reviewer"] for s in body["round"]["sheets"]} == {a, b, c}

    matrix = (await client.get(f"{w.base}/rounds/initial/matrix")).json()
    marked = {
        (row["submission_id"], cell["reviewer"])
        for row in matrix["rows"]
        for cell in row["cells"]
        if cell["entered_by"] == "secretariat"
    }
    assert marked == {
        (first.submission_id, a),
        (first.submission_id, b),
        (second.submission_id, c),
    }

    again = await client.post(
        f"{w.base}/rounds/initial/sheets/import", content=fixed, headers={"content-type": XLSX}
    )
    assert again.status_code == 422
    assert {e["rule"] for e in again.json()["errors"]} == {"already_filed"}
