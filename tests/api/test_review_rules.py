"""Bad input to review commands: a problem naming the field and the rule, and nothing changed."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from tenants.settings import Settings
from tests.api.review_world import PLAN, SAQ, Client, World, build
from tests.api.test_review_journey import CHECKLIST
from tests.support import Clock, beijing

pytestmark = pytest.mark.tenants("saq")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, session_hours=24 * 365)


def rules_of(response: Any) -> set[tuple[str, str]]:
    return {(e["field"], e["rule"]) for e in response.json()["errors"]}


async def test_a_review_plan_breaking_a_rule_is_refused_and_the_old_one_kept(
    client: Client,
) -> None:
    w = await build(client, ("huangpu",))
    url = f"{SAQ}/campaigns/{w.campaign_id}/review-plan"
    before = (await client.get(url)).json()
    bad = {
        **PLAN,
        "bands": [{"grade": "gold", "min_score": "90"}],
        "rubrics": {"problem_solving": {"选题": 10}},
    }
    refused = await client.put(url, json=bad)
    assert refused.status_code == 422
    assert rules_of(refused) >= {
        ("bands[0].grade", "unknown_grade"),
        ("rubrics.problem_solving", "sum"),
    }
    assert (await client.get(url)).json() == before


async def test_formal_review_needs_a_recommended_result_and_every_item_met(
    client: Client, clock: Clock
) -> None:
    w = await build(client, ("huangpu",))
    clock.now = beijing(2024, 3, 5, 10, 0)
    url = f"{SAQ}/submissions/{w.entries[0].submission_id}/formal-review"
    unmet = await client.post(
        url, json={"decision": "pass", "checklist": {**CHECKLIST, "成果报告齐全": False}}
    )
    assert (unmet.status_code, rules_of(unmet)) == (422, {("decision", "checklist_unmet")})
    partial = await client.post(url, json={"decision": "pass", "checklist": {"成果报告齐全": True}})
    assert ("checklist.盖章申报表齐全", "required") in rules_of(partial)
    no_reason = await client.post(url, json={"decision": "reject", "checklist": CHECKLIST})
    assert ("reason", "required") in rules_of(no_reason)
    shown = (await client.get(f"{SAQ}/submissions/{w.entries[0].submission_id}")).json()
    assert (shown["status"], shown["formal_review"], shown["version"]) == ("submitted", None, 5)

    rejected = await client.post(
        url, json={"decision": "reject", "checklist": CHECKLIST, "reason": "成果取得时间超过两年"}
    )
    assert rejected.json()["status"] == "rejected"
    again = await client.post(url, json={"decision": "pass", "checklist": CHECKLIST})
    assert again.status_code == 409


async def open_initial_round(w: World, clock: Clock) -> dict[str, Any]:
    clock.now = beijing(2024, 3, 5, 10, 0)
    for e in w.entries:
        passed = await w.client.post(
            f"{SAQ}/submissions/{e.submission_id}/formal-review",
            json={"decision": "pass", "checklist": CHECKLIST},
        )
        assert passed.status_code == 200, passed.text
    clock.now = beijing(2024, 3, 20, 9, 0)
    opened = await w.client.post(f"{w.base}/rounds/initial", json={})
    assert opened.status_code == 201, opened.text
    return dict(opened.json())


async def test_not_enough_reviewers_without_a_conflict_assigns_nobody(
    client: Client, clock: Clock
) -> None:
    w = await build(client, ("huangpu",))
    opened = await open_initial_round(w, clock)
    panel = [w.experts[0].number, w.experts[4].number, w.experts[5].number, w.experts[6].number]
    refused = await client.post(
        f"{w.base}/rounds/initial/assignments/auto", json={"certificate_numbers": panel}
    )
    assert refused.status_code == 409
    assert {rule for _, rule in rules_of(refused)} == {"not_enough_reviewers"}
    assert "无利益冲突的仅 3 人" in refused.json()["errors"][0]["message"]
    after = (await client.get(f"{w.base}/rounds/initial")).json()
    assert after["version"] == opened["version"]
    assert all(not reviewers for reviewers in after["assignments"].values())


async def test_a_sheet_breaking_the_rubric_or_filed_by_another_is_refused(
    client: Client, clock: Clock
) -> None:
    w = await build(client, ("huangpu",))
    await open_initial_round(w, clock)
    assigned = await client.post(f"{w.base}/rounds/initial/assignments/auto", json={})
    assert assigned.status_code == 200, assigned.text
    e = w.entries[0]
    reviewers = assigned.json()["assignments"][e.submission_id]
    x = w.expert(reviewers[0])
    outsider = next(y for y in w.experts if y.number not in reviewers)
    criteria = w.criteria(e.topic_type, e.quality, x.bias)
    url = f"{w.base}/rounds/initial/sheets"

    too_high = await client.post(
        url,
        json={"submission_id": e.submission_id, "criteria": {**criteria, "选题": "11"}},
        headers=x.headers,
    )
    assert ("criteria.选题", "range") in rules_of(too_high)
    unknown = await client.post(
        url,
        json={"submission_id": e.submission_id, "criteria": {**criteria, "颜值": "5"}},
        headers=x.headers,
    )
    assert ("criteria.颜值", "unknown_criterion") in rules_of(unknown)
    not_mine = await client.post(
        url, json={"submission_id": e.submission_id, "criteria": criteria}, headers=outsider.headers
    )
    assert (not_mine.status_code, rules_of(not_mine)) == (409, {("submission_id", "not_assigned")})
    clock.now = beijing(2024, 5, 1, 9, 0)
    late = await client.post(
        url, json={"submission_id": e.submission_id, "criteria": criteria}, headers=x.headers
    )
    assert (late.status_code, rules_of(late)) == (409, {("phase", "window_closed")})
    after = (await client.get(f"{w.base}/rounds/initial")).json()
    assert after["sheets"] == [] and after["version"] == assigned.json()["version"]


async def test_the_pool_refuses_a_bad_profile_and_a_second_enrolment(client: Client) -> None:
    body = {
        "name": "王评",
        "work_unit": "上海质量研究院",
        "work_unit_credit_code": "913100001322602501",
        "mobile": "1390000",
        "certificate": {
            "kind": "上海市QC小组评审员",
            "number": "SQA-QC-2023-0099",
            "issuing_body": "上海市质量协会",
            "level": "评审员",
            "valid_until": "2026-12-31",
        },
    }
    refused = await client.post(f"{SAQ}/experts", json=body)
    assert refused.status_code == 422
    fields = {field for field, _ in rules_of(refused)}
    assert {"mobile", "work_unit_credit_code"} <= fields
    good = {**body, "mobile": "13900000000", "work_unit_credit_code": None}
    assert (await client.post(f"{SAQ}/experts", json=good)).status_code == 201
    twice = await client.post(f"{SAQ}/experts", json=good)
    assert (twice.status_code, rules_of(twice)) == (
        409,
        {("certificate.number", "already_enrolled")},
    )
    pool = (await client.get(f"{SAQ}/experts")).json()
    assert [x["certificate_number"] for x in pool] == ["SQA-QC-2023-0099"]
