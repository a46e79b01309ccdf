"""The secretariat's accounts page over the test client (issue 19 §2): invitations (the link shown
and mailed, the same as the API's), grant, revoke, unlock, disable; each refusal beside its
field, in Chinese and in English, with nothing stored; units and applicants kept out."""

from __future__ import annotations

import re
import uuid
from typing import Any

from litestar.testing import AsyncTestClient

from aggregates.account import AccountStatus
from aggregates.actor import Actor, Role
from tests.api.claims_support import delivered
from tests.api.conftest import make_account
from tests.api.published_world import cheap_passwords
from tests.api.test_portal_pages import TOKEN, post_sign_in
from tests.api.test_submissions import ICBC

Client = AsyncTestClient[Any]
ENGLISH = {"accept-language": "en-GB,en"}
PAGE = "/saq/staff/accounts/"


async def page_session(client: Client, role: Role, scope: str | None = None) -> str:
    """An account of the role signed in through the sign-in page; the CSRF token of its pages."""
    with cheap_passwords(client, "saq"):
        login, password = make_account(client, "saq", role, scope)
        signed_in = await post_sign_in(client, login, password)
    assert signed_in.status_code == 303
    home = await client.get("/saq/account")
    found = TOKEN.search(home.text)
    assert found is not None
    return found.group(1)


def beside(text: str, field: str) -> str:
    found = re.search(rf'id="e-{re.escape(field)}">([^<]*)<', text)
    return found.group(1) if found else ""


def ledger(client: Client) -> Any:
    return client.app.state.platform.tenants["saq"].ledger


def login() -> str:
    return f"invitee-{uuid.uuid4().hex[:8]}@example.cn"


async def test_an_invitation_shows_the_link_it_mailed_and_the_list_shows_who_has_not_accepted(
    anonymous: Client,
) -> None:
    csrf = await page_session(anonymous, Role.SECRETARIAT)
    invitee = login()
    body = {"csrf_token": csrf, "login": invitee, "name": "黄浦区质协", "role": "recommending_unit"}
    answered = await anonymous.post(f"{PAGE}invitations", data={**body, "unit": "huangpu"})
    assert answered.status_code == 200, answered.text
    link = re.search(r'class="invitation-link" href="([^"]+)"', answered.text)
    assert link is not None
    code = link.group(1).partition("#code=")[2]
    assert link.group(1).endswith(f"/saq/invitation#code={code}")
    mails = delivered(anonymous, "saq", invitee)
    assert code in mails[-1][1] and link.group(1) in mails[-1][1]
    row = re.search(rf'<tr data-login="{re.escape(invitee)}">(.*?)</tr>', answered.text, re.S)
    assert row is not None and "黄浦区" in row.group(1) and "待接受邀请" in row.group(1)
    account = ledger(anonymous).find_account(invitee)
    assert account.status is AccountStatus.PENDING
    assert [(g.role, g.scope) for g in account.grants] == [(Role.RECOMMENDING_UNIT, "huangpu")]


async def test_each_invitation_field_is_refused_beside_it_and_nothing_is_stored(
    anonymous: Client,
) -> None:
    csrf = await page_session(anonymous, Role.SECRETARIAT)
    invitee = login()
    cases = [
        ({"role": ""}, "role", "请选择角色", "Choose a role"),
        (
            {"role": "recommending_unit", "unit": "atlantis"},
            "unit",
            "请选择本协会的推荐单位",
            "Choose",
        ),
        ({"role": "auditor", "login": "not-an-email"}, "login", "登录名须为电子邮箱", "e-mail"),
        (
            {
                "role": "reviewer",
                "reviewer.work_unit": "上海电气",
                "reviewer.certificate_kind": "QC 小组评委",
                "reviewer.certificate_number": "QC-2024-001",
                "reviewer.mobile": "0213",
            },
            "reviewer.mobile",
            "手机号应为 11 位数字，以 1 开头",
            "11 digits",
        ),
        ({"role": "reviewer"}, "reviewer.work_unit", "不能为空", "Required"),
    ]
    for changes, field, chinese, english in cases:
        body = {"csrf_token": csrf, "login": invitee, "name": "王工", **changes}
        refused = await anonymous.post(f"{PAGE}invitations", data=body)
        assert refused.status_code == 422, (field, refused.text)
        assert beside(refused.text, field) == chinese, field
        assert f'value="{body["login"]}"' in refused.text  # the input kept
        in_english = await anonymous.post(f"{PAGE}invitations", data=body, headers=ENGLISH)
        assert english in beside(in_english.text, field), (field, beside(in_english.text, field))
    assert ledger(anonymous).find_account(invitee) is None
    assert ledger(anonymous).find_account("not-an-email") is None
    assert delivered(anonymous, "saq", invitee) == []


async def test_a_role_is_granted_and_revoked_an_account_unlocked_and_disabled(
    anonymous: Client,
) -> None:
    csrf = await page_session(anonymous, Role.SECRETARIAT)
    someone, _ = make_account(anonymous, "saq", Role.AUDITOR)
    account = ledger(anonymous).find_account(someone)
    here = f"{PAGE}{account.id}"
    granted = await anonymous.post(
        f"{here}/grants",
        data={"csrf_token": csrf, "role": "recommending_unit", "unit": "xuhui"},
        follow_redirects=True,
    )
    assert granted.status_code == 200 and "已授予角色" in granted.text
    assert "推荐单位：徐汇区" in granted.text

    no_reason = await anonymous.post(
        f"{here}/revocations", data={"csrf_token": csrf, "grant": "recommending_unit/xuhui"}
    )
    assert no_reason.status_code == 422
    assert "请说明收回角色的原因" in no_reason.text and 'id="e-reason-' in no_reason.text
    assert Role.RECOMMENDING_UNIT in ledger(anonymous).get_account(account.id).roles()
    revoked = await anonymous.post(
        f"{here}/revocations",
        data={"csrf_token": csrf, "grant": "recommending_unit/xuhui", "reason": "调任"},
        follow_redirects=True,
    )
    assert "已收回角色" in revoked.text
    assert ledger(anonymous).get_account(account.id).roles() == {Role.AUDITOR}

    not_locked = await anonymous.post(f"{here}/unlock", data={"csrf_token": csrf})
    assert not_locked.status_code == 409 and "账号未锁定" in not_locked.text
    ledger(anonymous).lock_account(account.id, "测试", None, Actor("test", Role.SYSTEM))
    locked = await anonymous.get(here)
    assert "已锁定" in locked.text
    unlocked = await anonymous.post(
        f"{here}/unlock", data={"csrf_token": csrf}, follow_redirects=True
    )
    assert "已解除锁定" in unlocked.text
    assert ledger(anonymous).get_account(account.id).locked_until is None

    unexplained = await anonymous.post(f"{here}/disable", data={"csrf_token": csrf})
    assert unexplained.status_code == 422
    assert beside(unexplained.text, "disable_reason") == "须说明停用原因"
    assert ledger(anonymous).get_account(account.id).status is AccountStatus.ACTIVE
    disabled = await anonymous.post(
        f"{here}/disable",
        data={"csrf_token": csrf, "disable_reason": "离职"},
        follow_redirects=True,
    )
    assert "账号已停用" in disabled.text
    assert ledger(anonymous).get_account(account.id).status is AccountStatus.DISABLED


async def test_units_and_applicants_get_no_accounts_page(anonymous: Client) -> None:
    for role, scope in ((Role.RECOMMENDING_UNIT, "huangpu"), (Role.APPLICANT_UNIT, ICBC)):
        anonymous.cookies.clear()
        csrf = await page_session(anonymous, role, scope)
        listed = await anonymous.get(PAGE)
        assert listed.status_code == 403, role
        assert "<!DOCTYPE html>" in listed.text
        invited = await anonymous.post(
            f"{PAGE}invitations",
            data={"csrf_token": csrf, "login": login(), "name": "x", "role": "secretariat"},
        )
        assert invited.status_code == 403


async def test_an_enterprise_change_of_name_is_recorded_with_its_reason(
    anonymous: Client,
) -> None:
    csrf = await page_session(anonymous, Role.SECRETARIAT)
    holder, _ = make_account(anonymous, "saq", Role.APPLICANT_UNIT, ICBC)
    account = ledger(anonymous).find_account(holder)
    here = f"{PAGE}{account.id}"
    body = {"csrf_token": csrf, "credit_code": ICBC, "enterprise_name": "工银上海分行"}
    unexplained = await anonymous.post(f"{here}/enterprise-name", data=body)
    assert unexplained.status_code == 422
    assert beside(unexplained.text, "rename-reason-1") == "请说明更名的依据"
    assert 'value="工银上海分行"' in unexplained.text
    assert ledger(anonymous).get_account(account.id).enterprise_name(ICBC) == ""
    renamed = await anonymous.post(
        f"{here}/enterprise-name", data={**body, "reason": "新营业执照"}, follow_redirects=True
    )
    assert "已记录更名" in renamed.text
    assert ledger(anonymous).get_account(account.id).enterprise_name(ICBC) == "工银上海分行"
