"""The secretariat's round pages over the test client: the entrants shown before a round opens;
automatic assignment with each result's excluded reviewers and why; a manual assignment refused
with the conflict beside the field and nothing stored; progress and a mailed reminder; paper
sheets imported (a bad file refused with each row's problem, nothing stored); the matrix with
corrections and paper sheets marked, equal to the API's; aggregation, close and the recorded
inputs of a score. Applicants and units get 403, another tenant's round 404."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from aggregates.actor import Role
from aggregates.scoring import DEFAULT_RUBRICS
from tenants.settings import Settings
from tests.api.conftest import make_account, sign_in
from tests.api.review_world import Client, World
from tests.api.rounds_world import (
    beside,
    csrf,
    fill_form,
    long_sessions,
    passed_formal_review,
)
from tests.support import Clock

pytestmark = pytest.mark.tenants("saq")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return long_sessions(settings)


def page_of(w: World) -> str:
    return f"/saq/rounds/{w.campaign_id}/initial"


async def file_all_but(w: World, assignments: dict[str, list[str]], left: str) -> None:
    """Every reviewer files their sheets through the API, except `left`'s."""
    for submission_id, numbers in assignments.items():
        entry = w.entry(submission_id)
        for number in numbers:
            if number == left:
                continue
            x = w.expert(number)
            filed = await w.client.post(
                f"{w.base}/rounds/initial/sheets",
                json={
                    "submission_id": submission_id,
                    "criteria": w.criteria(entry.topic_type, entry.quality, x.bias),
                },
                headers=x.headers,
            )
            assert filed.status_code == 201, filed.text


async def test_the_secretariat_runs_a_round_in_the_browser(client: Client, clock: Clock) -> None:  # noqa: PLR0915 (one round, told in order)
    w = await passed_formal_review(client, clock)
    listed = await client.get("/saq/rounds/")
    assert listed.status_code == 200 and "初评" in listed.text and "未开始" in listed.text

    preview = await client.get(page_of(w))
    assert preview.status_code == 200
    assert all(e.serial in preview.text for e in w.entries)
    assert "确认开启本轮（10 项成果）" in preview.text
    token = csrf(preview.text)
    opened = await client.post(
        f"{page_of(w)}/open", data={"csrf_token": token, "top": ""}, follow_redirects=False
    )
    assert opened.status_code == 303, opened.text

    auto = await client.post(
        f"{page_of(w)}/assign-auto", data={"csrf_token": token}, follow_redirects=False
    )
    assert auto.status_code == 303, auto.text
    page = await client.get(auto.headers["location"])
    assert "已自动分配评委" in page.text
    huangpu = next(e for e in w.entries if e.unit == "huangpu")
    row = re.search(rf'id="r-{huangpu.serial}">(.*?)</tr>', page.text, re.S)
    assert row is not None and w.experts[0].number in row.group(1)
    assert "曾任推荐单位“黄浦区”评审组成员" in row.group(1)  # the unit's name, not its code
    xuhui = next(e for e in w.entries if e.unit == "xuhui")
    row = re.search(rf'id="r-{xuhui.serial}">(.*?)</tr>', page.text, re.S)
    assert row is not None and "申报回避" in row.group(1)

    round_before = (await client.get(f"{w.base}/rounds/initial")).json()
    refused = await client.post(
        f"{page_of(w)}/assign",
        data={
            "csrf_token": token,
            "submission_id": huangpu.submission_id,
            "certificate_number": w.experts[0].number,
        },
    )
    assert refused.status_code == 409
    assert beside(refused.text, "certificate_number") == "曾任推荐单位“黄浦区”评审组成员（回避）"
    assert f'value="{w.experts[0].number}" selected' in refused.text  # the input kept
    round_after = (await client.get(f"{w.base}/rounds/initial")).json()
    assert round_after["version"] == round_before["version"]

    late = w.experts[5].number
    assignments = round_after["assignments"]
    assert any(late in numbers for numbers in assignments.values())
    await file_all_but(w, assignments, late)
    login, _ = make_account(client, "saq", Role.REVIEWER, late)
    progress = await client.get(page_of(w))
    assert "邮件提醒未交评分表的 1 位评委" in progress.text
    reminded = await client.post(
        f"{page_of(w)}/remind", data={"csrf_token": token}, follow_redirects=False
    )
    assert reminded.status_code == 303
    mails = client.app.state.auth["saq"].mail_to(login)
    assert len(mails) == 1 and "评分提醒" in mails[0].subject

    form = await client.get(f"{page_of(w)}/form.xlsx")
    assert form.status_code == 200
    mine = [s for s, numbers in assignments.items() if late in numbers]

    def scores(submission_id: str, offset: int = 0) -> dict[str, object]:
        rubric = DEFAULT_RUBRICS[w.entry(submission_id).topic_type]
        criteria = {k: v * 8 // 10 for k, v in rubric.items()}
        return {**criteria, "合计": sum(criteria.values()) + offset}

    paper = {(w.entry(s).serial, late): scores(s) for s in mine}
    first_serial = w.entry(mine[0]).serial
    paper[(first_serial, late)] = scores(mine[0], offset=5)
    bad = fill_form(form.content, paper)
    upload = {"file": ("paper.xlsx", bad, "application/octet-stream")}
    refused_file = await client.post(
        f"{page_of(w)}/import", data={"csrf_token": token}, files=upload
    )
    assert refused_file.status_code == 422
    assert 'id="import-problems"' in refused_file.text and "不符" in refused_file.text
    stored = (await client.get(f"{w.base}/rounds/initial")).json()["sheets"]
    assert not [s for s in stored if s["reviewer"] == late]
    paper[(first_serial, late)] = scores(mine[0])
    good = fill_form(form.content, paper)
    entered = await client.post(
        f"{page_of(w)}/import",
        data={"csrf_token": token},
        files={"file": ("paper.xlsx", good, "application/octet-stream")},
        follow_redirects=False,
    )
    assert entered.status_code == 303, entered.text

    corrected_id = next(s for s, numbers in assignments.items() if late not in numbers)
    other = next(n for n in assignments[corrected_id])
    counting = (await client.get(f"{w.base}/rounds/initial")).json()["sheets"]
    sheet = next(
        s for s in counting if s["submission_id"] == corrected_id and s["reviewer"] == other
    )
    fixed = await client.post(
        f"{w.base}/rounds/initial/sheets",
        json={
            "submission_id": corrected_id,
            "criteria": {k: str(Decimal(v) * 0) for k, v in sheet["criteria"].items()},
            "corrects": sheet["sheet_id"],
            "reason": "誊写有误",
        },
        headers=w.expert(other).headers,
    )
    assert fixed.status_code == 201, fixed.text

    matrix_page = await client.get(f"{page_of(w)}/matrix")
    api = (await client.get(f"{w.base}/rounds/initial/matrix")).json()
    assert matrix_page.status_code == 200
    assert matrix_page.text.count("代录") - 1 == len(mine)  # the lead names it once
    assert matrix_page.text.count(">更正×1<") == 1
    for row in api["rows"]:
        for cell in row["cells"]:
            assert f">{cell['total']}" in matrix_page.text

    aggregated = await client.post(
        f"{page_of(w)}/aggregate", data={"csrf_token": token}, follow_redirects=False
    )
    assert aggregated.status_code == 303
    closed = await client.post(
        f"{page_of(w)}/close", data={"csrf_token": token}, follow_redirects=False
    )
    assert closed.status_code == 303
    result = (await client.get(f"{w.base}/rounds/initial")).json()["results"][corrected_id]
    inputs = await client.get(f"{page_of(w)}/results/{corrected_id}")
    assert inputs.status_code == 200
    assert str(result["score"]) in inputs.text and "去掉一个最高分和一个最低分后平均" in inputs.text
    assert "更正：誊写有误" in inputs.text and "最低分，去掉" in inputs.text
    matrix_after = (await client.get(f"{w.base}/rounds/initial/matrix")).json()
    final_page = await client.get(f"{page_of(w)}/matrix")
    for row in matrix_after["rows"]:
        assert f">{row['score']}</a>" in final_page.text


async def test_applicants_and_units_may_not_open_the_round_pages(
    client: Client, clock: Clock
) -> None:
    w = await passed_formal_review(client, clock)
    for role, scope in (
        (Role.APPLICANT_UNIT, w.entries[0].credit_code),
        (Role.RECOMMENDING_UNIT, "huangpu"),
        (Role.REVIEWER, w.experts[4].number),
    ):
        headers = await sign_in(client, "saq", role, scope)
        for path in ("/saq/rounds/", page_of(w), f"{page_of(w)}/matrix"):
            denied = await client.get(path, headers=headers)
            assert denied.status_code == 403, (role, path)
    missing = await client.get(f"/saq/rounds/{w.campaign_id}/nosuchround")
    assert missing.status_code == 404
