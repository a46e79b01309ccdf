"""Grading, the public notice with objections, publication and certificates in the browser, over
the test client (issue 20 §6): the ranking's figures are the API's; an override needs a reason,
refused beside the field with nothing stored; anyone objects from the public notice page with a
mailed code; the secretariat upholds it with a grade change; the notice closes; publication; a
certificate opens as PDF. Auditors read; recommending units are kept out."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest

from aggregates.actor import Role
from api.platform.mail import delivered_mail
from tests.api.conftest import sign_in
from tests.api.published_world import PUBLICATION_DAY, Client, Published, publish_campaign
from tests.api.test_portal_staff import TOKEN, beside, page_session
from tests.support import Clock, beijing

pytestmark = pytest.mark.tenants("saq")
EMAIL = "wangwu@example.cn"


async def reviewed(client: Client, clock: Clock) -> tuple[Published, str, str]:
    """A reviewed campaign (through the API); the secretariat's page session; its CSRF token."""
    world = await publish_campaign(
        client, clock, "saq", units=("huangpu", "xuhui"), until="reviewed"
    )
    csrf = await page_session(client, Role.SECRETARIAT)
    return world, f"/saq/grading/{world.campaign_id}", csrf


async def api_grading(client: Client, world: Published) -> dict[str, Any]:
    saved = dict(client.cookies)
    headers = await sign_in(client, "saq", Role.SECRETARIAT)
    client.cookies.update(saved)
    shown = await client.get(
        f"/api/v1/tenants/saq/campaigns/{world.campaign_id}/grading", headers=headers
    )
    assert shown.status_code == 200, shown.text
    return dict(shown.json())


async def post(client: Client, url: str, data: dict[str, str]) -> Any:
    return await client.post(url, data=data, follow_redirects=False)


def cells(text: str, cls: str) -> list[str]:
    return [c.strip() for c in re.findall(rf'<td[^>]*class="{cls}"[^>]*>(.*?)</td>', text, re.S)]


async def test_the_ranking_and_an_override_with_a_reason(anonymous: Client, clock: Clock) -> None:
    world, page, csrf = await reviewed(anonymous, clock)
    before = await anonymous.get(page)
    assert before.status_code == 200 and "尚未认定等级" in before.text
    graded = await post(anonymous, f"{page}/grade", {"csrf_token": csrf})
    assert graded.status_code == 303, graded.text

    shown = await anonymous.get(page)
    api = await api_grading(anonymous, world)
    entries = api["entries"]
    assert cells(shown.text, "combined") == [str(e["combined"]) for e in entries]
    assert all(e["basis"] in shown.text for e in entries if e["basis"])
    held = Counter(e["grade"] for e in entries if e["grade"])
    fills = re.findall(r'<tr data-grade="([^"]+)">.*?class="fill">(\d+) / ', shown.text, re.S)
    assert {g: int(n) for g, n in fills} == {g: held.get(g, 0) for g, _ in fills}

    ungraded = next(e for e in entries if e["grade"] is None)
    result = f"{page}/results/{ungraded['submission_id']}"
    refused = await post(
        anonymous, f"{result}/grade", {"csrf_token": csrf, "grade": "promotion", "reason": " "}
    )
    assert refused.status_code == 422, refused.text
    assert beside(refused.text, "reason") == "调整等级须说明理由"
    assert 'value="promotion" selected' in refused.text  # the input kept
    assert (await api_grading(anonymous, world))["overrides"] == {}

    done = await post(
        anonymous,
        f"{result}/grade",
        data={"csrf_token": csrf, "grade": "promotion", "reason": "经复核，补充材料成立。"},
    )
    assert done.status_code == 303, done.text
    after = await api_grading(anonymous, world)
    assert after["overrides"] == {ungraded["submission_id"]: "经复核，补充材料成立。"}
    assert "经复核，补充材料成立。" in (await anonymous.get(page)).text


async def object_from_the_public_page(
    anonymous: Client, world: Published, graded: dict[str, Any]
) -> None:
    """A member of the public objects to `graded` from the public notice page, confirming the
    code mailed to them (a refusal beside its field first, and a wrong code)."""
    anonymous.cookies.clear()  # a member of the public, not signed in
    notice = await anonymous.get(f"/saq/campaigns/{world.campaign_id}/public-notice")
    assert notice.status_code == 200 and graded["topic"] in notice.text
    form_url = f"/saq/campaigns/{world.campaign_id}/public-notice/objection/"
    form = await anonymous.get(form_url)
    assert form.status_code == 200
    token = TOKEN.search(form.text)
    assert token is not None
    fields = {
        "csrf_token": token.group(1),
        "submission_id": graded["submission_id"],
        "name": "",
        "email": EMAIL,
        "phone": "",
        "reasons": "该成果的数据与企业年报不符。",
    }
    refused = await post(anonymous, form_url, fields)
    assert refused.status_code == 422, refused.text
    assert beside(refused.text, "name") == "请填写真实姓名"
    asked = await post(anonymous, form_url, {**fields, "name": "王五"})
    assert asked.status_code == 200, asked.text
    pending = re.search(r'name="pending" value="([^"]+)"', asked.text)
    assert pending is not None
    confirm = {"csrf_token": token.group(1), "pending": pending.group(1)}
    wrong = await post(anonymous, f"{form_url}confirm", {**confirm, "code": "x"})
    assert wrong.status_code == 400 and beside(wrong.text, "code") == "确认码无效、已使用或已过期"
    anonymous.app.state.mail.send_pending()
    (mail,) = delivered_mail(anonymous.app.state.settings, "saq", EMAIL)
    code = re.search(r"确认码：(\S+)", str(mail.get_content()))
    assert code is not None
    filed = await post(anonymous, f"{form_url}confirm", {**confirm, "code": code.group(1)})
    assert filed.status_code == 200 and "异议已提交" in filed.text


async def test_an_objection_from_the_public_notice_is_upheld_then_published(
    anonymous: Client, clock: Clock
) -> None:
    world, page, csrf = await reviewed(anonymous, clock)
    assert (await post(anonymous, f"{page}/grade", {"csrf_token": csrf})).status_code == 303
    assert (await post(anonymous, f"{page}/notice", {"csrf_token": csrf})).status_code == 303
    graded = next(e for e in (await api_grading(anonymous, world))["entries"] if e["grade"])

    session = dict(anonymous.cookies)
    await object_from_the_public_page(anonymous, world, graded)
    anonymous.cookies.clear()
    anonymous.cookies.update(session)
    (objection,) = (await api_grading(anonymous, world))["objections"]
    assert objection["objector"]["name"] == "王五"
    assert "王五" in (await anonymous.get(page)).text
    url = f"{page}/objections/{objection['objection_id']}"
    resolve = {"csrf_token": csrf, "decision": "upheld", "change_grade": "yes", "grade": ""}
    refused = await post(anonymous, f"{url}/resolve", {**resolve, "reason": ""})
    assert refused.status_code == 422 and beside(refused.text, "reason") == "请写明处理意见"
    upheld = await post(anonymous, f"{url}/resolve", {**resolve, "reason": "数据确有出入。"})
    assert upheld.status_code == 303, upheld.text
    after = await api_grading(anonymous, world)
    assert after["objections"][0]["decision"] == "upheld"
    entry = next(e for e in after["entries"] if e["submission_id"] == graded["submission_id"])
    assert entry["grade"] is None

    clock.now = beijing(2024, *PUBLICATION_DAY)
    anonymous.cookies.clear()
    csrf = await page_session(anonymous, Role.SECRETARIAT)
    closed = await post(anonymous, f"{page}/notice/close", {"csrf_token": csrf})
    assert closed.status_code == 303, closed.text
    published = await post(anonymous, f"{page}/publish", {"csrf_token": csrf})
    assert published.status_code == 303, published.text
    shown = await anonymous.get(page)
    certificates = (await api_grading(anonymous, world))["certificates"]
    assert certificates and all(code in shown.text for code in certificates.values())
    holder = next(iter(certificates))
    pdf = await anonymous.get(f"{page}/certificates/{holder}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"


async def test_auditors_read_and_recommending_units_are_kept_out(
    anonymous: Client, clock: Clock
) -> None:
    _, page, csrf = await reviewed(anonymous, clock)
    assert (await post(anonymous, f"{page}/grade", {"csrf_token": csrf})).status_code == 303
    anonymous.cookies.clear()
    await page_session(anonymous, Role.AUDITOR)
    read = await anonymous.get(page)
    assert read.status_code == 200 and "<form" not in read.text.split("<main", 1)[-1]
    refused = await post(anonymous, f"{page}/notice", {"csrf_token": "x"})
    assert refused.status_code in (403, 404)
    anonymous.cookies.clear()
    await page_session(anonymous, Role.RECOMMENDING_UNIT, "huangpu")
    assert (await anonymous.get(page)).status_code in (403, 404)


async def test_a_signed_in_person_of_the_tenant_objects_without_a_code(
    anonymous: Client, clock: Clock
) -> None:
    world, page, csrf = await reviewed(anonymous, clock)
    assert (await post(anonymous, f"{page}/grade", {"csrf_token": csrf})).status_code == 303
    assert (await post(anonymous, f"{page}/notice", {"csrf_token": csrf})).status_code == 303
    graded = next(e for e in (await api_grading(anonymous, world))["entries"] if e["grade"])
    session = dict(anonymous.cookies)
    anonymous.cookies.clear()
    unit_csrf = await page_session(anonymous, Role.RECOMMENDING_UNIT, "xuhui")
    form_url = f"/saq/campaigns/{world.campaign_id}/public-notice/objection/"
    form = await anonymous.get(form_url)
    assert "您已登录" in form.text and 'name="email"' not in form.text
    fields = {"csrf_token": unit_csrf, "submission_id": graded["submission_id"], "reasons": ""}
    refused = await post(anonymous, f"{form_url}signed-in", fields)
    assert (
        refused.status_code == 422 and beside(refused.text, "reasons") == "请写明异议的事实和理由"
    )
    filed = await post(anonymous, f"{form_url}signed-in", {**fields, "reasons": "名次有误。"})
    assert filed.status_code == 200 and "异议已提交" in filed.text
    anonymous.cookies.clear()
    anonymous.cookies.update(session)
    (objection,) = (await api_grading(anonymous, world))["objections"]
    assert objection["reasons"] == "名次有误。" and "objector" not in objection
