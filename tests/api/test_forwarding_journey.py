"""Province → national, end to end through the API, on SQLite and PostgreSQL: saq and sdaq
publish their campaigns and forward graded results (and saq its statistics table and work
summary) inside the national campaign's window and quota; caq's intake records each forward once;
caq reviews, grades and publishes; each province reads its national outcome on its own records.
On the way: what the national tenant may not read, what one province may not see of another,
a withdrawn forward with its reason, a withdrawal refused after national formal review."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from aggregates.actor import Role
from aggregates.review_plan import DEFAULT_CHECKLIST
from tests.api.conftest import sign_in
from tests.api.national_world import (
    CAQ,
    NATIONAL_GRADE,
    NATIONAL_PLAN,
    Forwarder,
    eventually,
    national_campaign,
)
from tests.api.published_world import (
    Client,
    Secretariat,
    cheap_passwords,
    criteria,
    enrol_experts,
    ok,
    publish_campaign,
    tenant_config,
)
from tests.api.test_recommendations import SUMMARY, statistics
from tests.conftest import BACKENDS, TWO_SERVERS
from tests.support import Clock, beijing

pytestmark = pytest.mark.tenants("saq", "sdaq", "caq")


@pytest.fixture(params=[*BACKENDS, TWO_SERVERS])
def backend(request: pytest.FixtureRequest) -> str:
    """SQLite, PostgreSQL, and PostgreSQL with caq on a second server: the provinces' forwards
    read on one server and recorded into the national tenant on the other, exactly once."""
    return str(request.param)


async def test_province_to_national_and_back(client: Client, clock: Clock) -> None:  # noqa: PLR0915
    saq = await publish_campaign(client, clock, "saq", units=("huangpu", "xuhui"), per_unit=3)
    sdaq = await publish_campaign(client, clock, "sdaq", units=("jinan", "qingdao"), per_unit=3)
    assert len(saq.graded()) >= 3 and len(sdaq.graded()) >= 2, (saq, sdaq)
    shanghai, shandong = Forwarder(client, clock, saq), Forwarder(client, clock, sdaq)
    national = Secretariat(client, clock, "caq")

    # Before CAQ opens its campaign there is nothing to forward to.
    clock.now = beijing(2024, 6, 2, 9, 0)
    refused = await shanghai.forward(saq.graded()[0], 409)
    assert refused["errors"][0]["rule"] == "not_opened", refused

    with cheap_passwords(client, "caq"):
        caq_headers = await national.headers()
    opened = ok(
        await client.post(f"{CAQ}/campaigns", json=national_campaign(), headers=caq_headers),
        201,
        "caq opens its campaign",
    )
    caq_base = f"{CAQ}/campaigns/{opened['id']}"
    plan = f"{caq_base}/review-plan"
    ok(await client.put(plan, json=NATIONAL_PLAN, headers=caq_headers), 200, "plan")

    # Forwarding: inside the window, within the quota of 2, only graded results.
    page = await shanghai.page()
    assert (page["national_tenant"], page["quota"], page["used"]) == ("caq", 2, 0)
    assert page["national_campaign_title"] == "2024年全国质量管理小组活动成果推荐"
    first, second, third = saq.graded()[:3]
    refused = await shanghai.forward(saq.ungraded()[0], 409)
    assert refused["errors"][0]["rule"] == "not_graded", refused
    await shanghai.forward(first)
    await shanghai.forward(second)
    refused = await shanghai.forward(third, 422)
    assert [(e["field"], e["rule"]) for e in refused["errors"]] == [("submission_id", "quota")]
    sd_first, sd_second = sdaq.graded()[:2]
    await shandong.forward(sd_first)
    await shandong.forward(sd_second)
    report = {"statistics": statistics(), "summary": SUMMARY}
    ok(
        await client.put(
            f"{shanghai.base}/report", json=report, headers=await shanghai.secretariat.headers()
        ),
        200,
        "saq forwards its report",
    )

    # The intake records each forward once, with its provenance, under its province.
    async def intake() -> dict[str, Any]:
        listed = ok(await client.get(f"{caq_base}/intake", headers=caq_headers), 200, "intake")
        return {i["unit"]: i for i in listed}

    async def received_all() -> bool:
        found = await intake()
        return {u: len(i["received"]) for u, i in found.items()} == {
            "shanghai": 2,
            "shandong": 2,
        } and found["shanghai"]["report_received_at"] is not None

    await eventually(received_all, "caq's intake of four forwards and a report")
    received = await intake()
    assert received["shanghai"]["origin_tenant"] == "saq"
    assert {r["origin_submission_id"] for r in received["shanghai"]["received"]} == {
        first["id"],
        second["id"],
    }
    national_ids = {
        r["origin_submission_id"]: r["submission_id"]
        for i in received.values()
        for r in i["received"]
    }
    copy = ok(
        await client.get(f"{CAQ}/submissions/{national_ids[first['id']]}", headers=caq_headers),
        200,
        "caq reads a forwarded result",
    )
    assert copy["recommending_unit"] == "shanghai"
    assert copy["recommendation"] == "recommended"
    assert copy["credit_code"] == first["credit_code"]
    assert copy["origin"]["tenant"] == "saq"
    assert copy["origin"]["serial"] == first["serial"]
    assert copy["origin"]["grade"]["code"] == first["grade"]
    assert Decimal(copy["origin"]["scores"]["combined"]) == first["combined"]
    assert copy["origin"]["evaluation"] == f"推荐：{first['title']}"
    assert copy["origin"]["certificate_code"] == first["certificate_code"]
    assert {r["certificate_number"] for r in copy["origin"]["roster"]} == set(first["experts"])
    # National scope: the enterprise reads its forwarded result without the provincial
    # reviewer roster; the association that forwarded it (its recommending unit here), whole.
    enterprise = await sign_in(client, "caq", Role.APPLICANT_UNIT, first["credit_code"])
    own = ok(
        await client.get(f"{CAQ}/submissions/{copy['id']}", headers=enterprise),
        200,
        "the enterprise reads its forwarded result",
    )
    assert "roster" not in own["origin"] and own["origin"]["serial"] == first["serial"]
    association = await sign_in(client, "caq", Role.RECOMMENDING_UNIT, "shanghai")
    whole = ok(
        await client.get(f"{CAQ}/submissions/{copy['id']}", headers=association),
        200,
        "the association reads what it forwarded",
    )
    assert whole["origin"]["roster"] == copy["origin"]["roster"]
    assert len(copy["attachments"]) == 3
    attachment = copy["attachments"][0]
    download = await client.get(
        f"{CAQ}/submissions/{copy['id']}/attachments/{attachment['sha256']}", headers=caq_headers
    )
    assert download.status_code == 200 and len(download.content) == attachment["size"]
    statistics_table = ok(
        await client.get(f"{caq_base}/units/shanghai/statistics", headers=caq_headers),
        200,
        "caq reads saq's statistics table",
    )
    assert statistics_table["figures"]["participants"] == 3150

    # The boundary: caq cannot read what was not forwarded; a province sees nothing of another.
    for not_forwarded in (third, saq.ungraded()[0]):
        response = await client.get(f"{CAQ}/submissions/{not_forwarded['id']}", headers=caq_headers)
        assert response.status_code == 404, response.text
    response = await client.get(
        f"/api/v1/tenants/saq/submissions/{national_ids[sd_first['id']]}",
        headers=await shanghai.secretariat.headers(),
    )
    assert response.status_code == 404
    response = await client.get(
        f"/api/v1/tenants/saq/submissions/{sd_first['id']}",
        headers=await shanghai.secretariat.headers(),
    )
    assert response.status_code == 404
    assert {f["submission_id"] for f in (await shanghai.page())["forwards"]} == {
        first["id"],
        second["id"],
    }
    response = await client.get(shanghai.base, headers=await shandong.secretariat.headers())
    assert response.status_code in (401, 403, 404), response.text
    response = await client.get(f"{caq_base}/intake", headers=await shanghai.secretariat.headers())
    assert response.status_code in (401, 403, 404), response.text

    # saq withdraws one before national formal review: caq sees it withdrawn with the reason;
    # the freed place takes the third result.
    withdrawn = ok(
        await client.post(
            f"{shanghai.base}/results/{second['id']}/withdraw",
            json={"reason": "成果效益数据待复核"},
            headers=await shanghai.secretariat.headers(),
        ),
        200,
        "saq withdraws a forward",
    )
    assert withdrawn["used"] == 1
    await shanghai.forward(third)

    async def withdrawal_arrived() -> bool:
        shanghai_intake = (await intake())["shanghai"]
        return len(shanghai_intake["received"]) == 3 and any(
            r["withdrawn_reason"] for r in shanghai_intake["received"]
        )

    await eventually(withdrawal_arrived, "the withdrawal and the third forward")
    gone = ok(
        await client.get(f"{CAQ}/submissions/{national_ids[second['id']]}", headers=caq_headers),
        200,
        "caq reads the withdrawn forward",
    )
    assert gone["status"] == "withdrawn"
    assert gone["withdrawn_reason"] == "推荐单位撤回：成果效益数据待复核"
    national_ids[third["id"]] = next(
        r["submission_id"]
        for r in (await intake())["shanghai"]["received"]
        if r["origin_submission_id"] == third["id"]
    )

    # National formal review: the withdrawn one is refused; one of sdaq's is rejected.
    clock.now = beijing(2024, 9, 20, 9, 0)
    caq_headers = await national.headers()
    checklist = dict.fromkeys(DEFAULT_CHECKLIST, True)
    response = await client.post(
        f"{CAQ}/submissions/{national_ids[second['id']]}/formal-review",
        json={"decision": "pass", "checklist": checklist},
        headers=caq_headers,
    )
    assert response.status_code == 409, response.text
    decisions = {first["id"]: "pass", third["id"]: "pass", sd_first["id"]: "pass"}
    decisions[sd_second["id"]] = "reject"
    for origin_id, decision in decisions.items():
        body: dict[str, Any] = {"decision": decision, "checklist": checklist}
        if decision == "reject":
            body |= {"checklist": checklist | {DEFAULT_CHECKLIST[2]: False}}
            body["reason"] = "成果取得时间超过两年"
        ok(
            await client.post(
                f"{CAQ}/submissions/{national_ids[origin_id]}/formal-review",
                json=body,
                headers=caq_headers,
            ),
            200,
            f"caq formal review of {origin_id}",
        )

    # saq has heard of the formal review: a withdrawal now is refused at home.
    async def formal_review_heard() -> bool:
        return (await shanghai.record(first["id"]))["national"]["formal_review"] == "passed"

    await eventually(formal_review_heard, "saq hearing of national formal review")
    response = await client.post(
        f"{shanghai.base}/results/{first['id']}/withdraw",
        json={"reason": "撤回"},
        headers=await shanghai.secretariat.headers(),
    )
    assert response.status_code == 409, response.text

    # National review: a reviewer on saq's provincial panel may not score saq's results.
    clock.now = beijing(2024, 10, 8, 9, 0)
    caq_headers = await national.headers()
    config = tenant_config(client, "caq")
    experts = await enrol_experts(client, CAQ, config, 2024, caq_headers)
    panel_member = {
        "name": "上海评委",
        "work_unit": "上海市质量协会评审组",
        "mobile": "13900000001",
        "certificate": {
            "kind": "QC小组评审员",
            "number": first["experts"][0],
            "issuing_body": "上海市质量协会",
            "level": "评审员",
            "valid_until": "2026-12-31",
        },
    }
    ok(await client.post(f"{CAQ}/experts", json=panel_member, headers=caq_headers), 201, "enrol")
    entrants = ok(
        await client.post(f"{caq_base}/rounds/national", json={}, headers=caq_headers),
        201,
        "open the national round",
    )["entrants"]
    assert {e["submission_id"] for e in entrants} == {
        national_ids[i] for i in (first["id"], third["id"], sd_first["id"])
    }
    refused = ok(
        await client.post(
            f"{caq_base}/rounds/national/assignments",
            json={
                "submission_id": national_ids[first["id"]],
                "certificate_number": first["experts"][0],
            },
            headers=caq_headers,
        ),
        409,
        "assign saq's panel member to a saq result",
    )
    assert "推荐单位" in refused["errors"][0]["message"], refused
    assigned = ok(
        await client.post(
            f"{caq_base}/rounds/national/assignments/auto",
            json={"certificate_numbers": experts},
            headers=caq_headers,
        ),
        200,
        "assign national reviewers",
    )["assignments"]
    rubrics = {e["submission_id"]: e["rubric"] for e in entrants}
    levels = {first["id"]: "0.95", third["id"]: "0.50", sd_first["id"]: "0.90"}
    for origin_id, level in levels.items():
        for reviewer in assigned[national_ids[origin_id]]:
            sheet = {
                "submission_id": national_ids[origin_id],
                "reviewer": reviewer,
                "criteria": criteria(rubrics[national_ids[origin_id]], Decimal(level)),
            }
            ok(
                await client.post(
                    f"{caq_base}/rounds/national/sheets", json=sheet, headers=caq_headers
                ),
                201,
                "national sheet",
            )
    for step in ("aggregate", "close"):
        ok(await client.post(f"{caq_base}/rounds/national/{step}", headers=caq_headers), 200, step)
    clock.now = beijing(2024, 11, 1, 9, 0)
    caq_headers = await national.headers()
    graded = ok(await client.post(f"{caq_base}/grading", headers=caq_headers), 201, "grade")
    grades = {e["submission_id"]: e["grade"] for e in graded["entries"]}
    assert grades[national_ids[first["id"]]] == "national_excellent"
    assert grades[national_ids[sd_first["id"]]] == "national_excellent"
    assert grades[national_ids[third["id"]]] is None
    ok(await client.post(f"{caq_base}/notice", headers=caq_headers), 200, "open notice")
    clock.now = beijing(2024, 11, 8, 9, 0)
    caq_headers = await national.headers()
    ok(await client.post(f"{caq_base}/notice/close", headers=caq_headers), 200, "close notice")
    ok(await client.post(f"{caq_base}/publish-results", headers=caq_headers), 200, "publish")

    # Outcomes back: each province reads them on its own records.
    async def published_heard() -> bool:
        records = [await shanghai.record(first["id"]), await shandong.record(sd_first["id"])]
        return all(r["national"]["status"] == "graded" for r in records)

    await eventually(published_heard, "the provinces hearing of national publication")
    record = await shanghai.record(first["id"])
    assert record["national"]["status_name_zh"] == NATIONAL_GRADE
    assert record["national"]["grade_name"] == NATIONAL_GRADE
    assert record["national"]["certificate_code"].startswith("CAQ-2024-QC-")
    assert [h["stage"] for h in record["national"]["history"]] == ["formal_review", "publication"]
    not_graded = await shanghai.record(third["id"])
    assert not_graded["national"]["status"] == "not_graded"
    withdrawn_record = await shanghai.record(second["id"])
    assert withdrawn_record["national"]["status"] == "withdrawn"
    assert withdrawn_record["national"]["reason"] == "成果效益数据待复核"
    rejected = await shandong.record(sd_second["id"])
    assert rejected["national"]["status"] == "rejected"
    assert rejected["national"]["reason"] == "成果取得时间超过两年"
    assert (await shandong.record(sd_first["id"]))["national"]["grade_name"] == NATIONAL_GRADE
    forwards = {f["submission_id"]: f for f in (await shanghai.page())["forwards"]}
    assert forwards[first["id"]]["national"]["status_name_zh"] == NATIONAL_GRADE
    verified = ok(
        await client.get(
            f"/api/v1/certificates/{record['national']['certificate_code']}",
        ),
        200,
        "verify the national certificate",
    )
    assert verified["valid"] is True, verified


@pytest.mark.parametrize("tenant", ["caq"])
async def test_a_national_tenant_has_no_forwarding_and_a_province_no_intake(
    client: Client, tenant: str
) -> None:
    headers = await sign_in(client, tenant, Role.SECRETARIAT)
    campaign = "00000000-0000-0000-0000-000000000000"
    response = await client.get(
        f"/api/v1/tenants/{tenant}/campaigns/{campaign}/national-forwarding", headers=headers
    )
    assert response.status_code == 404, response.text
    response = await client.get(f"/api/v1/tenants/saq/campaigns/{campaign}/intake")
    assert response.status_code == 404, response.text
