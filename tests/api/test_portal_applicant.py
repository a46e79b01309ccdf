"""The applicant's channel over the test client: 报名 (each field's refusal beside it in zh-CN
and en, nothing stored, the version unchanged), 我的申报's step line and next action for each
status, the endorsement, and a 404 page for another enterprise's record."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID, uuid4

import pytest
from litestar.testing import AsyncTestClient

from aggregates.actor import Role
from aggregates.registration import Registration, RegistrationNotFound
from api.portal.applicant import NEXT, STEPS, next_action, stage_of
from tests.api.claims_support import documents, mailed_code
from tests.api.conftest import make_account, sign_in
from tests.api.published_world import cheap_passwords
from tests.api.test_portal_pages import TOKEN, post_sign_in
from tests.api.test_submissions import APPLICANT_BLOCK, ICBC, SAQ, campaign_2024, journey, qc_result
from tests.support import Clock, beijing, new_password

Client = AsyncTestClient[Any]
GOOD = {
    "unit_name": "中国工商银行股份有限公司上海市分行",
    "member_unit": "yes",
    "nature": "国有",
    "key_industries": ["金融"],
    "key_domain": "市场服务",
    "address": "上海市浦东新区银城中路8号",
    "postcode": "200120",
    "managing_department": "运营管理部",
    "promoter.name": "王芳",
    "promoter.department_and_title": "运营管理部 经理",
    "promoter.mobile": "13800138000",
    "promoter.email": "wangfang@icbc.example.cn",
    "intents": ["参加活动申报问题解决型课题"],
}
BAD = {  # one bad value per field, each refused beside it
    "unit_name": ("", "不能为空", "Required"),
    "member_unit": ("", "请选择是否为会员单位", "Choose whether the unit is a member"),
    "nature_other": ("", "单位性质选“其他”时请注明", "Name the nature when choosing “Other”"),
    "key_industries": (
        [],
        "请至少选择一项重点产业或填写“其他”",
        "Choose at least one key industry",
    ),
    "key_domain": ("旅游", "请从本协会的重点领域中选择一项", "Choose one of the association"),
    "address": ("", "不能为空", "Required"),
    "postcode": ("2001", "邮编应为 6 位数字", "six digits"),
    "managing_department": ("", "不能为空", "Required"),
    "promoter.name": ("", "不能为空", "Required"),
    "promoter.mobile": ("0213", "手机号应为 11 位数字，以 1 开头", "11 digits"),
    "promoter.email": ("wang@", "邮箱格式不正确", "e-mail address"),
    "intents": ([], "请至少选择一项申报意向", "Choose at least one intent"),
}


async def applicant_page_session(client: Client, scope: str = ICBC) -> str:
    """An applicant of `scope` signed in through the sign-in page (cookie); its CSRF token."""
    with cheap_passwords(client, "saq"):
        login, password = make_account(client, "saq", Role.APPLICANT_UNIT, scope)
        signed_in = await post_sign_in(client, login, password)
    assert signed_in.status_code == 303
    home = await client.get("/saq/applicant/")
    assert home.status_code == 200, home.text
    found = TOKEN.search(home.text)
    assert found is not None
    return found.group(1)


def beside(text: str, field: str) -> str:
    found = re.search(rf'id="e-{re.escape(field)}">([^<]*)<', text)
    return found.group(1) if found else ""


async def test_each_registration_field_is_refused_beside_it_in_either_language(
    anonymous: Client,
) -> None:
    secretariat = await _secretariat(anonymous)
    opened = await anonymous.post(f"{SAQ}/campaigns", json=campaign_2024(), headers=secretariat)
    campaign_id = opened.json()["id"]
    token = await applicant_page_session(anonymous)
    url = f"/saq/applicant/campaigns/{campaign_id}/registration"
    form = await anonymous.get(url)
    assert form.status_code == 200
    for name in ("金融", "市场服务", "其他（请注明）", "参加活动申报创新型课题"):
        assert name in form.text
    bad = {name: value for name, (value, _, _) in BAD.items()}
    body = {**GOOD, **bad, "nature": "其他", "csrf_token": token, "version": ""}
    refused = await anonymous.post(url, data=body)
    english = await anonymous.post(url, data=body, headers={"accept-language": "en"})
    assert refused.status_code == 422 and english.status_code == 422
    for name, (_, chinese, said_in_english) in BAD.items():
        assert chinese in beside(refused.text, name), name
        assert said_in_english.lower() in beside(english.text, name).lower(), name
    assert 'value="上海市浦东新区"' not in refused.text  # kept as typed: the bad values
    assert 'value="2001"' in refused.text and 'value="0213"' in refused.text
    ledger = anonymous.app.state.platform.tenants["saq"].ledger
    registration_id = Registration.create_id(campaign_id, ICBC)
    with pytest.raises(RegistrationNotFound):
        ledger.get_registration(registration_id)

    saved = await anonymous.post(url, data={**GOOD, "csrf_token": token, "version": ""})
    assert saved.status_code == 200, saved.text
    assert "报名已保存" in saved.text
    assert ledger.get_registration(registration_id).version == 1
    again = await anonymous.post(
        url, data={**GOOD, "postcode": "x", "csrf_token": token, "version": "1"}
    )
    assert again.status_code == 422 and "邮编应为 6 位数字" in beside(again.text, "postcode")
    stale = await anonymous.post(
        url, data={**GOOD, "address": "新地址", "csrf_token": token, "version": "0"}
    )
    assert stale.status_code == 409 and "记录已被他人修改" in stale.text
    assert 'value="新地址"' in stale.text  # the input kept
    assert ledger.get_registration(registration_id).version == 1  # nothing stored


def test_the_step_line_and_next_action_of_each_status() -> None:
    def step(status: str, endorsed: bool = False, stage: str | None = None) -> str:
        return STEPS[stage_of(status, endorsed, stage)][1]

    def action(status: str, endorsed: bool = False, stage: str | None = None) -> str:
        return next_action(status, endorsed, stage)

    cases = [
        (("draft",), "草稿", "draft"),
        (("returned",), "已提交", "returned"),
        (("submitted",), "已提交", "endorse"),
        (("submitted", True), "单位已推荐", "wait"),
        (("submitted", True, "recommended"), "推荐单位已推荐", "wait"),
        (("submitted", True, "formal_review"), "形式审查", "wait"),
        (("rejected", True), "形式审查", "closed"),
        (("withdrawn",), "已提交", "closed"),
        (("submitted", True, "in_review"), "评审中", "wait"),
        (("submitted", True, "public_notice"), "公示", "wait"),
        (("submitted", True, "published"), "已发布", "published"),
        (("submitted", True, "forwarded"), "推荐全国", "published"),
        (("submitted", True, "national_result"), "全国结果", "published"),
    ]
    for args, label, expected in cases:
        assert step(*args) == label, args
        assert action(*args) == expected, args
        assert expected in NEXT


async def test_my_results_show_each_result_where_it_stands_and_another_is_a_404(
    client: Client,
) -> None:
    j = await journey(client)
    draft = await j.draft(qc_result(topic_name="提高柜面一次办结率"))
    submitted = await j.complete(qc_result(topic_name="缩短客户等候时间"))
    assert (await j.submit(submitted)).status_code == 200
    endorsed = await j.complete(qc_result("innovative", topic_name="降低柜面业务差错率"))
    second = await j.submit(endorsed)
    assert second.status_code == 200, second.text
    other = await j.draft(qc_result(topic_name="提高回访率"))  # of this enterprise, another account
    stranger = await _stranger_result(client, j.campaign["id"])

    client.headers.pop("Authorization")
    token = await applicant_page_session(client)
    page = await client.get(f"/saq/applicant/campaigns/{j.campaign['id']}")
    assert page.status_code == 200
    text = page.text
    assert draft.json()["id"] in text and other.json()["id"] in text and stranger not in text
    assert "完成成果表并提交" in text and "单位通道：出具单位意见" in text
    assert "北京时间" in text and "还剩" in text
    serial = client.app.state.platform.tenants["saq"].ledger.get_submission(UUID(submitted)).serial
    assert serial and serial in text
    assert _card(text, draft.json()["id"]).count('aria-current="step"') == 1
    assert 'aria-current="step">草稿' in _card(text, draft.json()["id"])
    assert 'aria-current="step">已提交' in _card(text, submitted)

    result = f"/saq/applicant/results/{endorsed}"
    shown = await client.get(result)
    assert shown.status_code == 200 and "提交单位意见" in shown.text
    version = re.search(r'name="version" value="(\d+)"', shown.text)
    assert version is not None
    body = {"self_evaluation": "", "opinion": "同意推荐", "score": "abc", "csrf_token": token}
    refused = await client.post(f"{result}/endorse", data={**body, "version": version.group(1)})
    assert refused.status_code == 422
    assert beside(refused.text, "score") == "评分应为数字"
    body = {**body, "self_evaluation": "课题选题合理", "score": "85"}
    done = await client.post(f"{result}/endorse", data={**body, "version": version.group(1)})
    assert done.status_code == 200 and "课题选题合理" in done.text
    listed = await client.get(f"/saq/applicant/campaigns/{j.campaign['id']}")
    assert "单位已推荐" in listed.text

    unconfirmed = await client.post(
        f"/saq/applicant/results/{submitted}/withdraw",
        data={"reason": "材料需补充", "csrf_token": token},
    )
    assert unconfirmed.status_code == 422
    assert beside(unconfirmed.text, "confirm") == "请勾选确认撤回"
    assert 'value="材料需补充"' in unconfirmed.text
    ledger = client.app.state.platform.tenants["saq"].ledger
    assert ledger.get_submission(UUID(submitted)).status.value == "submitted"
    withdrawn = await client.post(
        f"/saq/applicant/results/{submitted}/withdraw",
        data={"reason": "材料需补充", "confirm": "yes", "csrf_token": token},
    )
    assert withdrawn.status_code == 200 and "撤回申报" not in withdrawn.text
    assert ledger.get_submission(UUID(submitted)).status.value == "withdrawn"
    assert "（已撤回）" in _card(
        (await client.get(f"/saq/applicant/campaigns/{j.campaign['id']}")).text, submitted
    )

    missing = await client.get(f"/saq/applicant/results/{stranger}")
    assert missing.status_code == 404 and "页面不存在" in missing.text
    endorse_other = await client.post(f"/saq/applicant/results/{stranger}/endorse", data=body)
    assert endorse_other.status_code == 404 and "页面不存在" in endorse_other.text


def _card(text: str, submission_id: str) -> str:
    start = text.index(f'data-submission="{submission_id}"')
    return text[start : text.index("</ol>", start)]


async def _secretariat(client: Client) -> dict[str, str]:
    return await sign_in(client, "saq", Role.SECRETARIAT)


async def _stranger_result(client: Client, campaign_id: str) -> str:
    """A draft of another enterprise in the same campaign."""
    headers = await sign_in(client, "saq", Role.APPLICANT_UNIT, "91310000MA1FL4XQ6T")
    secretariat = client.headers.get("Authorization")
    drafted = await client.post(
        f"{SAQ}/campaigns/{campaign_id}/submissions",
        json={**qc_result(), "applicant": APPLICANT_BLOCK},
        headers=headers,
    )
    assert drafted.status_code == 201, drafted.text
    if secretariat:
        client.headers["Authorization"] = secretariat
    return str(drafted.json()["id"])


async def test_an_account_whose_claim_awaits_verification_may_not_endorse(client: Client) -> None:
    j = await journey(client)
    login, password = f"claimant-{uuid4().hex[:8]}@example.cn", new_password()
    registered = await client.post(
        f"{SAQ}/registrations",
        json={
            "login": login,
            "name": "李强",
            "password": password,
            "enterprise_name": "中国工商银行股份有限公司上海市分行",
            "credit_code": ICBC,
            **documents(login),
        },
    )
    assert registered.status_code == 202, registered.text
    confirmed = await client.post(
        f"{SAQ}/registrations/confirm", json={"token": mailed_code(client, "saq", login)}
    )
    assert confirmed.status_code == 200, confirmed.text
    client.headers.pop("Authorization")
    with cheap_passwords(client, "saq"):
        assert (await post_sign_in(client, login, password)).status_code == 303
    page = await client.get(f"/saq/applicant/campaigns/{j.campaign['id']}")
    token = TOKEN.search(page.text)
    assert token is not None
    draft = await client.post(
        f"{SAQ}/campaigns/{j.campaign['id']}/submissions",
        json={**qc_result(), "applicant": APPLICANT_BLOCK},
        headers={"X-CSRF-Token": token.group(1)},
    )
    assert draft.status_code == 201, draft.text
    result = f"/saq/applicant/results/{draft.json()['id']}"
    assert (await client.get(result)).status_code == 200
    body = {"self_evaluation": "好", "opinion": "同意", "score": "80", "csrf_token": token.group(1)}
    refused = await client.post(f"{result}/endorse", data=body)
    assert refused.status_code == 409
    assert "本账号代表该单位的身份尚待核验" in refused.text


async def test_the_registration_is_read_only_once_its_window_closed(
    client: Client, clock: Clock
) -> None:
    j = await journey(client)
    client.headers.pop("Authorization")
    clock.now = beijing(2024, 3, 2, 9, 0)
    token = await applicant_page_session(client)
    url = f"/saq/applicant/campaigns/{j.campaign['id']}/registration"
    page = await client.get(url)
    assert page.status_code == 200
    assert "报名已截止（截止时间：2024年3月1日 22:00），报名表只读" in page.text
    assert "保存报名" not in page.text and "<fieldset disabled>" in page.text
    refused = await client.post(url, data={**GOOD, "csrf_token": token, "version": ""})
    assert refused.status_code == 409 and "已截止" in refused.text
    registration_id = Registration.create_id(UUID(j.campaign["id"]), ICBC)
    ledger = client.app.state.platform.tenants["saq"].ledger
    with pytest.raises(RegistrationNotFound):
        ledger.get_registration(registration_id)
