"""The reviewer's pages over the test client: the queue with progress, the sheet by the rubric
(a score over its maximum refused beside its field, input kept, nothing stored), save and next
through the queue, a correction that needs a reason, my own sheets, a declared conflict, the
report opened. Every page and every response of the journey is checked for any other reviewer's
sheet (their number, score sheet id, comment): none appears. Another reviewer's result answers
404; applicants and units 403."""

from __future__ import annotations

import re
from typing import Any

import pytest

from aggregates.actor import Role
from aggregates.scoring import DEFAULT_RUBRICS
from tenants.settings import Settings
from tests.api.conftest import sign_in
from tests.api.review_world import Client, World
from tests.api.rounds_world import beside, csrf, long_sessions, passed_formal_review
from tests.support import Clock

pytestmark = pytest.mark.tenants("saq")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return long_sessions(settings)


class Journey:
    """The reviewer's requests, each answer kept to be searched afterwards."""

    def __init__(self, client: Client, headers: dict[str, str]) -> None:
        self.client, self.headers, self.seen = client, headers, []

    async def get(self, path: str, status: int = 200) -> Any:
        response = await self.client.get(path, headers=self.headers)
        assert response.status_code == status, (path, response.text[:300])
        self.seen.append(
            (path, response.text if "pdf" not in response.headers.get("content-type", "") else "")
        )
        return response

    async def post(self, path: str, data: dict[str, str], status: int = 303) -> Any:
        response = await self.client.post(
            path, data=data, headers=self.headers, follow_redirects=False
        )
        found = re.findall(r'class="(?:error|alert)"[^>]*>(.*?)</', response.text, re.S)
        assert response.status_code == status, (path, found)
        self.seen.append((path, response.text))
        return response


async def others_file_their_sheets(
    w: World, assignments: dict[str, list[str]], me: str
) -> list[str]:
    """Every other reviewer files each sheet with a comment of their own; their sheet ids."""
    ids = []
    for submission_id, numbers in assignments.items():
        entry = w.entry(submission_id)
        for number in numbers:
            if number == me:
                continue
            x = w.expert(number)
            filed = await w.client.post(
                f"{w.base}/rounds/initial/sheets",
                json={
                    "submission_id": submission_id,
                    "criteria": w.criteria(entry.topic_type, entry.quality, x.bias),
                    "comment": f"仅{number}可见的评语",
                },
                headers=x.headers,
            )
            assert filed.status_code == 201, filed.text
            ids.append(filed.json()["sheet_id"])
    return ids


async def test_a_reviewer_scores_their_queue_and_sees_no_other_reviewers_sheet(  # noqa: PLR0915 (one journey, told in order)
    client: Client, clock: Clock
) -> None:
    w = await passed_formal_review(client, clock)
    assert (await client.post(f"{w.base}/rounds/initial", json={})).status_code == 201
    assigned = await client.post(f"{w.base}/rounds/initial/assignments/auto", json={})
    assignments = assigned.json()["assignments"]
    me = w.experts[6]
    mine = sorted(
        (s for s, numbers in assignments.items() if me.number in numbers),
        key=lambda s: w.entry(s).serial,
    )
    assert len(mine) >= 2
    other_ids = await others_file_their_sheets(w, assignments, me.number)
    j = Journey(client, me.headers)
    base = f"/saq/reviewer/{w.campaign_id}/initial"

    queue = await j.get("/saq/reviewer/")
    assert f"已评 0/{len(mine)}" in queue.text
    assert all(w.entry(s).serial in queue.text for s in mine)
    first = await j.get(f"{base}/{mine[0]}")
    assert "（满分 10）" in first.text and "合计" in first.text and "reviewer.js" in first.text
    assert "成果报告" in first.text
    token = csrf(first.text)
    entry = w.entry(mine[0])
    criteria = w.criteria(entry.topic_type, entry.quality, me.bias)
    form = {"csrf_token": token, "action": "next", "comment": "我的评语"}
    form |= {f"c{i}": v for i, v in enumerate(criteria.values())}
    over = await j.post(f"{base}/{mine[0]}", {**form, "c0": "99"}, status=422)
    assert "应在 0 至" in beside(over.text, "c0") and 'value="99"' in over.text
    stored = (await client.get(f"{w.base}/rounds/initial")).json()["sheets"]
    assert not [s for s in stored if s["reviewer"] == me.number]

    for position, submission_id in enumerate(mine):
        entry = w.entry(submission_id)
        criteria = w.criteria(entry.topic_type, entry.quality, me.bias)
        form = {"csrf_token": token, "action": "next", "comment": "我的评语"}
        form |= {f"c{i}": v for i, v in enumerate(criteria.values())}
        saved = await j.post(f"{base}/{submission_id}", form)
        following = saved.headers["location"]
        if position + 1 < len(mine):
            assert following == f"{base}/{mine[position + 1]}?done=saved"
        else:
            assert following == "/saq/reviewer/?done=finished"
        await j.get(following)

    again = await j.get(f"{base}/{mine[0]}")
    assert "更正我的评分表" in again.text
    correction = {"csrf_token": token, "action": "save", "comment": "我的评语"}
    first_rubric = DEFAULT_RUBRICS[w.entry(mine[0]).topic_type]
    correction |= {f"c{i}": "5" for i in range(len(first_rubric))}
    no_reason = await j.post(f"{base}/{mine[0]}", correction, status=422)
    assert beside(no_reason.text, "reason") == "请说明更正原因"
    corrected = await j.post(f"{base}/{mine[0]}", {**correction, "reason": "看错了成果的数据"})
    assert corrected.headers["location"].endswith("?done=corrected")
    await j.get(corrected.headers["location"])

    sheets = await j.get("/saq/reviewer/sheets")
    assert all(w.entry(s).serial in sheets.text for s in mine)
    declared_missing = await j.post(
        "/saq/reviewer/conflicts",
        {"csrf_token": token, "kind": "applicant", "value": w.entries[0].credit_code, "reason": ""},
        status=422,
    )
    assert beside(declared_missing.text, "reason") == "不能为空"
    declared = await j.post(
        "/saq/reviewer/conflicts",
        {
            "csrf_token": token,
            "kind": "applicant",
            "value": w.entries[0].credit_code,
            "reason": "曾任该单位顾问",
        },
    )
    await j.get(declared.headers["location"])

    report = next(
        a
        for a in (await client.get(f"/api/v1/tenants/saq/submissions/{mine[0]}")).json()[
            "attachments"
        ]
        if a["kind"] == "report"
    )
    report_url = f"{base}/{mine[0]}/files/{report['sha256']}"
    opened = await j.get(report_url)
    assert opened.headers["content-type"].startswith("application/pdf")
    # The report shows beside the sheet: framed by the portal's own pages only, never cached.
    assert opened.headers["x-frame-options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in opened.headers["content-security-policy"]
    assert opened.headers["cache-control"] == "private, no-store"
    sheet = await j.get(f"{base}/{mine[0]}")
    assert f'<iframe class="report-frame" src="{report_url}"' in sheet.text

    not_mine = next(s for s in assignments if s not in mine)
    await j.get(f"{base}/{not_mine}", status=404)
    await j.get(f"{base}/{not_mine}/files/{report['sha256']}", status=404)
    await j.post(
        f"{base}/{not_mine}",
        {"csrf_token": token, "action": "save", **{f"c{i}": "1" for i in range(9)}},
        status=404,
    )
    api_queue = await j.get(f"{w.base}/review-queue")
    api_round = await j.get(f"{w.base}/rounds/initial", status=403)
    assert api_round is not None and len(api_queue.json()) == len(mine)

    others = [x.number for x in w.experts if x.number != me.number]
    for path, text in j.seen:
        for number in others:
            assert number not in text, (path, number)
            assert f"仅{number}可见的评语" not in text, (path, number)
        for sheet_id in other_ids:
            assert sheet_id not in text, (path, sheet_id)


async def test_applicants_and_units_may_not_open_the_reviewer_pages(
    client: Client, clock: Clock
) -> None:
    w = await passed_formal_review(client, clock)
    for role, scope in (
        (Role.APPLICANT_UNIT, w.entries[0].credit_code),
        (Role.RECOMMENDING_UNIT, "huangpu"),
        (Role.SECRETARIAT, None),
    ):
        headers = await sign_in(client, "saq", role, scope)
        for path in ("/saq/reviewer/", "/saq/reviewer/sheets"):
            denied = await client.get(path, headers=headers)
            assert denied.status_code == 403, (role, path)
