"""The secretariat's recommendation decisions over the test client (issue 19 §2): each unit's 推荐表
listed and opened read-only, returned with a reason, extra quota, recommendations declared
invalid, direct-channel entries confirmed; each refusal beside its field with nothing stored;
units and applicants kept out."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import AsyncTestClient

from aggregates.actor import Role
from tests.api.conftest import sign_in
from tests.api.test_portal_staff import ENGLISH, page_session
from tests.api.test_recommendations import REVIEWER, form_url, recommend
from tests.api.test_submissions import ICBC, Journey, journey, qc_result

pytestmark = pytest.mark.tenants("saq")

Client = AsyncTestClient[Any]


def beside(text: str, field: str) -> str:
    found = re.search(rf'id="e-{re.escape(field)}">([^<]*)<', text)
    return found.group(1) if found else ""


async def file_a_form(client: Client) -> Journey:
    """Through the API (the client is the secretariat): a campaign with a quota of two per
    recommending unit, where pudong has filed its 推荐表 of two results."""
    j = await journey(client, recommending_unit_quota=2)
    ids = []
    for topic_type in ("problem_solving", "innovative"):
        submission_id = await j.complete(qc_result(topic_type))
        assert (await j.submit(submission_id)).status_code == 200
        ids.append(submission_id)
    url = form_url(j)
    await client.post(f"{url}/recommendation/reviewers", json=REVIEWER, headers=j.unit)
    for submission_id in ids:
        assert (await recommend(client, j, submission_id)).status_code == 200
    await client.post(
        f"{url}/recommendation/declaration",
        json={"filled_by": "陈静", "phone": "021-58881234"},
        headers=j.unit,
    )
    filed = await client.post(f"{url}/recommendation/file", headers=j.unit)
    assert filed.json()["status"] == "filed", filed.text
    return j


async def filed_form(client: Client) -> tuple[Journey, str]:
    """`file_a_form`; the secretariat's page session (cookie) then replaces the API's bearer;
    the page's CSRF token."""
    client.headers.update(await sign_in(client, "saq", Role.SECRETARIAT))
    j = await file_a_form(client)
    del client.headers["Authorization"]
    csrf = await page_session(client, Role.SECRETARIAT)
    return j, csrf


async def form_of(client: Client, j: Journey) -> dict[str, Any]:
    shown = await client.get(f"{form_url(j)}/recommendation", headers=j.unit)
    return dict(shown.json())


async def test_a_filed_form_is_read_and_returned_with_a_reason(anonymous: Client) -> None:
    j, csrf = await filed_form(anonymous)
    campaign = j.campaign["id"]
    listed = await anonymous.get(f"/saq/decisions/{campaign}")
    assert listed.status_code == 200, listed.text
    row = re.search(r'<tr data-unit="pudong">(.*?)</tr>', listed.text, re.S)
    assert row is not None and "已报送" in row.group(1) and ">2<" in row.group(1)
    page = f"/saq/decisions/{campaign}/units/pudong"
    shown = await anonymous.get(page)
    assert shown.status_code == 200
    assert "降低柜面业务差错率" in shown.text and REVIEWER["certificate_number"] in shown.text
    assert "陈静" in shown.text
    assert 'name="score"' not in shown.text and 'name="evaluation"' not in shown.text
    version = (await form_of(anonymous, j))["version"]

    unexplained = await anonymous.post(
        f"{page}/return", data={"csrf_token": csrf, "reason": " ", "version": version}
    )
    assert unexplained.status_code == 422
    assert beside(unexplained.text, "return-reason") == "请说明退回原因"
    in_english = await anonymous.post(
        f"{page}/return", data={"csrf_token": csrf, "reason": ""}, headers=ENGLISH
    )
    assert beside(in_english.text, "return-reason") == "State the reason for returning the form"
    too_long = await anonymous.post(
        f"{page}/return", data={"csrf_token": csrf, "reason": "长" * 501}
    )
    assert "原因不得超过 500 字" in beside(too_long.text, "return-reason")
    assert "长" * 501 in too_long.text  # the input kept
    still = await form_of(anonymous, j)
    assert (still["status"], still["version"]) == ("filed", version)

    returned = await anonymous.post(
        f"{page}/return",
        data={"csrf_token": csrf, "reason": "第2名评价过于简略，请补充。", "version": version},
        follow_redirects=True,
    )
    assert returned.status_code == 200 and "已退回推荐表" in returned.text
    seen = await form_of(anonymous, j)
    assert (seen["status"], seen["returned_reason"]) == ("returned", "第2名评价过于简略，请补充。")
    stale = await anonymous.post(
        f"{page}/quota",
        data={"csrf_token": csrf, "extra": "1", "reason": "优秀", "version": version},
    )
    assert stale.status_code == 409  # the form was read before the return


async def test_extra_quota_and_invalid_recommendations_need_their_reasons(
    anonymous: Client,
) -> None:
    j, csrf = await filed_form(anonymous)
    page = f"/saq/decisions/{j.campaign['id']}/units/pudong"
    before = await form_of(anonymous, j)
    refused = await anonymous.post(f"{page}/quota", data={"csrf_token": csrf, "extra": "0"})
    assert refused.status_code == 422
    assert beside(refused.text, "quota-extra") == "增加名额须为正整数"
    assert beside(refused.text, "quota-reason") == "请说明增加名额的理由"
    assert beside(refused.text, "return-reason") == ""  # only beside the form posted
    granted = await anonymous.post(
        f"{page}/quota",
        data={"csrf_token": csrf, "extra": "2", "reason": "本区推进成效显著"},
        follow_redirects=True,
    )
    assert "已增加推荐名额" in granted.text and "2 / 4（含增加名额 2）" in granted.text
    unexplained = await anonymous.post(f"{page}/invalidate", data={"csrf_token": csrf})
    assert beside(unexplained.text, "invalidate-reason") == "请说明认定推荐无效的原因"
    after_refusals = await form_of(anonymous, j)
    assert after_refusals["version"] == before["version"] + 1  # the grant only
    invalid = await anonymous.post(
        f"{page}/invalidate",
        data={"csrf_token": csrf, "reason": "推荐单位违规收取费用"},
        follow_redirects=True,
    )
    assert "已认定该单位的推荐无效" in invalid.text
    assert (await form_of(anonymous, j))["status"] == "invalid"


async def test_a_direct_channel_entry_is_confirmed(anonymous: Client) -> None:
    j, _ = await filed_form(anonymous)
    anonymous.headers.update(await sign_in(anonymous, "saq", Role.SECRETARIAT))
    direct = await j.complete({**qc_result(), "recommending_unit": "direct"})
    assert (await j.submit(direct)).status_code == 200
    del anonymous.headers["Authorization"]
    csrf = await page_session(anonymous, Role.SECRETARIAT)  # sign_in cleared the cookies
    campaign = j.campaign["id"]
    listed = await anonymous.get(f"/saq/decisions/{campaign}")
    assert f'data-submission="{direct}"' in listed.text and "确认直接受理" in listed.text
    confirmed = await anonymous.post(
        f"/saq/decisions/{campaign}/direct/{direct}/confirm",
        data={"csrf_token": csrf},
        follow_redirects=True,
    )
    assert "已确认直接受理通道的申报" in confirmed.text
    again = await anonymous.post(
        f"/saq/decisions/{campaign}/direct/{direct}/confirm", data={"csrf_token": csrf}
    )
    assert again.status_code == 409 and "已确认" in again.text
    sub = anonymous.app.state.platform.tenants["saq"].ledger.get_submission(UUID(direct))
    assert sub.direct_channel_confirmed


async def test_units_and_applicants_get_no_decisions_and_an_unknown_unit_is_a_404(
    anonymous: Client,
) -> None:
    j, _ = await filed_form(anonymous)
    campaign = j.campaign["id"]
    missing = await anonymous.get(f"/saq/decisions/{campaign}/units/atlantis")
    assert missing.status_code == 404 and "<!DOCTYPE html>" in missing.text
    for role, scope in ((Role.RECOMMENDING_UNIT, "pudong"), (Role.APPLICANT_UNIT, ICBC)):
        anonymous.cookies.clear()
        csrf = await page_session(anonymous, role, scope)
        for path in (
            "/saq/decisions/",
            f"/saq/decisions/{campaign}",
            f"/saq/decisions/{campaign}/units/pudong",
        ):
            refused = await anonymous.get(path)
            assert refused.status_code == 403, (role, path)
        returned = await anonymous.post(
            f"/saq/decisions/{campaign}/units/pudong/return",
            data={"csrf_token": csrf, "reason": "x"},
        )
        assert returned.status_code == 403
