"""Accounts in the browser over the test client (issue 18 §3): each form's bad input is shown
beside its field, in Chinese and in English, and changes nothing; the registration, its
confirmation, the verifiers' queue, invitations, password reset and change call the same
commands as the API."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from aggregates.account import AccountStatus
from aggregates.actor import Role
from tests.api.claims_support import LETTER, LICENCE, delivered, mailed_code
from tests.api.conftest import make_account
from tests.api.published_world import cheap_passwords
from tests.api.test_submissions import ICBC
from tests.support import new_password

Client = AsyncTestClient[Any]

pytestmark = pytest.mark.tenants("saq")
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
ENGLISH = {"accept-language": "en-GB,en"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def beside(page: Any, field: str) -> str:
    """The problem shown beside a field of the page ('' if none)."""
    found = re.search(rf'<p class="error" id="e-{re.escape(field)}">([^<]*)</p>', page.text)
    return found.group(1) if found else ""


async def token_of(client: Client, path: str, **headers: str) -> str:
    page = await client.get(path, headers=headers)
    assert page.status_code == 200, page.text
    found = TOKEN.search(page.text)
    assert found is not None
    return found.group(1)


def registration(login: str, **changes: Any) -> dict[str, Any]:
    fields = {
        "login": login,
        "name": "李梅",
        "password": (password := new_password()),
        "password_again": password,
        "enterprise_name": "中国工商银行股份有限公司上海市分行",
        "credit_code": ICBC,
    }
    return {**fields, **changes}


def documents(licence: bytes = LICENCE, letter: bytes = LETTER) -> dict[str, Any]:
    return {
        "business_licence": ("营业执照.pdf", licence, "application/pdf"),
        "authorisation_letter": ("授权委托书.jpg", letter, "image/jpeg"),
    }


async def register(
    client: Client, form: dict[str, Any], files: dict[str, Any], **headers: str
) -> Any:
    token = await token_of(client, "/saq/registration", **headers)
    return await client.post(
        "/saq/registration",
        data={**form, "csrf_token": token},
        files=files,
        headers=headers,
        follow_redirects=False,
    )


def stored_files(client: Client) -> list[Any]:
    root = client.app.state.platform.tenants["saq"].files.root
    return [p for p in root.rglob("*") if p.is_file()]


def account(client: Client, login: str) -> Any:
    return client.app.state.platform.tenants["saq"].ledger.find_account(login)


async def sign_in(client: Client, login: str, password: str) -> None:
    client.cookies.clear()
    token = await token_of(client, "/saq/sign-in")
    signed = await client.post(
        "/saq/sign-in",
        data={"login": login, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert signed.status_code == 303, signed.text


async def post_form(client: Client, page: str, action: str, body: dict[str, str]) -> Any:
    token = await token_of(client, page)
    return await client.post(action, data={**body, "csrf_token": token}, follow_redirects=False)


@pytest.mark.parametrize(
    ("changes", "files", "field", "chinese", "english"),
    [
        (
            {"credit_code": "91100000100003962A"},
            documents(),
            "credit_code",
            "统一社会信用代码校验码应为 T，实际为 A",
            "The check character should be T, not A",
        ),
        (
            {"credit_code": "9110000010000396"},
            documents(),
            "credit_code",
            "统一社会信用代码应为 18 位，实际为 16 位",
            "The credit code has 18 characters, not 16",
        ),
        (
            {"password_again": "Another-Pass-42"},
            documents(),
            "password_again",
            "两次输入的密码不一致",
            "The two passwords differ",
        ),
        (
            {"password": "short", "password_again": "short"},
            documents(),
            "password",
            "密码至少 10 位",
            "The password needs at least 10 characters",
        ),
        (
            {},
            {"authorisation_letter": documents()["authorisation_letter"]},
            "business_licence",
            "请选择要上传的文件",
            "Choose a file to upload",
        ),
        (
            {},
            documents(letter=b"MZ\x90\x00 not a document"),
            "authorisation_letter",
            "须为 PDF、JPEG 或 PNG 文件",
            "The file must be a PDF, JPEG or PNG",
        ),
        ({"login": "not-an-address"}, documents(), "login", "登录名须为电子邮箱", "e-mail"),
    ],
)
async def test_bad_registration_input_is_shown_beside_its_field_and_stores_nothing(
    anonymous: Client,
    changes: dict[str, str],
    files: dict[str, Any],
    field: str,
    chinese: str,
    english: str,
) -> None:
    login = "newcomer@example.cn"
    form = {**registration(login), **changes}
    refused = await register(anonymous, form, files)
    assert refused.status_code in (400, 422), refused.text
    assert chinese in beside(refused, field)
    assert form["password"] not in refused.text  # never shown again
    assert 'value="中国工商银行股份有限公司上海市分行"' in refused.text  # the rest is kept
    in_english = await register(anonymous, form, files, **ENGLISH)
    assert english in beside(in_english, field)
    assert account(anonymous, changes.get("login", login)) is None
    assert stored_files(anonymous) == []
    assert delivered(anonymous, "saq", login) == []


async def test_the_credit_code_is_checked_as_it_is_typed(anonymous: Client) -> None:
    check = "/saq/registration/credit-code"
    wrong = await anonymous.get(check, params={"credit_code": "91100000100003962A"})
    assert wrong.status_code == 200
    assert "统一社会信用代码校验码应为 T，实际为 A" in beside(wrong, "credit_code")
    assert "<html" not in wrong.text  # the fragment beside the field, not a page
    english = await anonymous.get(check, params={"credit_code": "9I1"}, headers=ENGLISH)
    assert "not I, O, Z, S, V" in beside(english, "credit_code")
    right = await anonymous.get(check, params={"credit_code": ICBC.lower()})
    assert beside(right, "credit_code") == "" and "统一社会信用代码校验通过" in right.text


async def test_a_registration_posted_without_its_forms_token_stores_nothing(
    anonymous: Client,
) -> None:
    await anonymous.get("/saq/registration")
    form = registration("forged@example.cn")
    forged = await anonymous.post(
        "/saq/registration",
        data={**form, "csrf_token": "forged"},
        files=documents(),
        follow_redirects=False,
    )
    assert forged.status_code == 403
    assert account(anonymous, "forged@example.cn") is None and stored_files(anonymous) == []


async def registered_and_confirmed(client: Client, login: str) -> str:
    """An applicant unit registers, confirms with the mailed code and signs in: its password."""
    form = registration(login)
    answered = await register(client, form, documents(LICENCE, PNG))
    assert answered.status_code == 303
    assert answered.headers["location"] == "/saq/registration/confirm?registered=1"
    code = mailed_code(client, "saq", login)
    assert f"/saq/registration/confirm#code={code}" in delivered(client, "saq", login)[-1][1]
    page = "/saq/registration/confirm"
    wrong = await post_form(client, page, page, {"token": "not-the-code-0000"})
    assert "确认码无效、已使用或已过期" in beside(wrong, "token")
    assert account(client, login).status is AccountStatus.PENDING
    confirmed = await post_form(client, page, page, {"token": code})
    assert confirmed.status_code == 200 and "注册已确认" in confirmed.text
    await sign_in(client, login, form["password"])
    return str(form["password"])


async def invites_a_colleague(client: Client) -> None:
    """The verified applicant (signed in) invites a colleague, who accepts in the browser."""
    bad = await post_form(
        client, "/saq/account", "/saq/account/colleagues", {"credit_code": ICBC, "name": "王五"}
    )
    assert "不能为空" in beside(bad, "login")
    colleague = "wangwu@icbc.example.cn"
    invited = await post_form(
        client,
        "/saq/account",
        "/saq/account/colleagues",
        {"credit_code": ICBC, "login": colleague, "name": "王五"},
    )
    assert invited.status_code == 303
    code = mailed_code(client, "saq", colleague)
    client.cookies.clear()
    password = new_password()
    mismatch = await post_form(
        client,
        "/saq/invitation",
        "/saq/invitation",
        {"token": code, "password": password, "password_again": password + "x"},
    )
    assert "两次输入的密码不一致" in beside(mismatch, "password_again")
    assert account(client, colleague).status is AccountStatus.PENDING
    accepted = await post_form(
        client,
        "/saq/invitation",
        "/saq/invitation",
        {"token": code, "password": password, "password_again": password},
    )
    assert accepted.status_code == 200 and "账号已启用" in accepted.text
    await sign_in(client, colleague, password)
    assert "已核验" in (await client.get("/saq/account")).text


async def test_an_applicant_registers_is_verified_by_the_secretariat_and_invites_a_colleague(
    anonymous: Client,
) -> None:
    client = anonymous
    with cheap_passwords(client, "saq"):
        secretary, secretary_password = make_account(client, "saq", Role.SECRETARIAT)
        applicant = "lime@icbc.example.cn"
        applicant_password = await registered_and_confirmed(client, applicant)
        mine = await client.get("/saq/account")
        assert "待核验" in mine.text and "中国工商银行股份有限公司上海市分行" in mine.text
        assert "申报单位" in mine.text and "邀请同事" not in mine.text  # not yet verified

        await sign_in(client, secretary, secretary_password)
        queue = await client.get("/saq/enterprise-claims")
        assert queue.status_code == 200 and applicant in queue.text
        links = re.findall(r'href="(/saq/enterprise-claims/[^"]+/files/[0-9a-f]+)"', queue.text)
        assert len(links) == 2
        opened = {(await client.get(link)).headers["content-type"] for link in links}
        assert opened == {"application/pdf", "image/png"}
        shown = await client.get(links[0])
        assert shown.headers["content-disposition"].startswith("inline;")
        assert shown.headers["x-content-type-options"] == "nosniff"
        base = re.search(r'action="(/saq/enterprise-claims/[^"]+)/refuse"', queue.text)
        assert base is not None
        no_reason = await post_form(
            client, "/saq/enterprise-claims", f"{base.group(1)}/refuse", {"reason": " "}
        )
        assert no_reason.status_code == 422
        assert "须说明未通过核验的原因" in no_reason.text
        assert re.search(r'id="e-reason-1">须说明未通过核验的原因<', no_reason.text)
        refused = await post_form(
            client,
            "/saq/enterprise-claims",
            f"{base.group(1)}/refuse",
            {"reason": "授权委托书未加盖公章"},
        )
        assert refused.status_code == 303

        await sign_in(client, applicant, applicant_password)
        mine = await client.get("/saq/account")
        assert "未通过核验" in mine.text and "授权委托书未加盖公章" in mine.text
        token = TOKEN.search(mine.text)
        assert token is not None
        missing = await client.post(
            "/saq/account/claims",
            data={"csrf_token": token.group(1), "credit_code": ICBC},
            files={"business_licence": documents()["business_licence"]},
        )
        assert "请选择要上传的文件" in beside(missing, "authorisation_letter")
        again = await client.post(
            "/saq/account/claims",
            data={"csrf_token": token.group(1), "credit_code": ICBC},
            files=documents(),
            follow_redirects=False,
        )
        assert again.status_code == 303
        assert "待核验" in (await client.get("/saq/account")).text

        await sign_in(client, secretary, secretary_password)
        queue = await client.get("/saq/enterprise-claims")
        base = re.search(r'action="(/saq/enterprise-claims/[^"]+)/accept"', queue.text)
        assert base is not None
        accepted = await post_form(client, "/saq/enterprise-claims", f"{base.group(1)}/accept", {})
        assert accepted.status_code == 303

        await sign_in(client, applicant, applicant_password)
        mine = await client.get("/saq/account")
        assert "已核验" in mine.text and "邀请同事" in mine.text
        await invites_a_colleague(client)


async def test_a_claimant_is_not_answered_the_verifiers_queue_nor_its_files(
    anonymous: Client,
) -> None:
    with cheap_passwords(anonymous, "saq"):
        await registered_and_confirmed(anonymous, "someone@example.cn")
        queue = await anonymous.get("/saq/enterprise-claims", headers={"accept": "text/html"})
    assert queue.status_code == 403


async def test_a_reset_is_answered_alike_whatever_the_login_and_sets_the_new_password(
    anonymous: Client,
) -> None:
    client = anonymous
    with cheap_passwords(client, "saq"):
        login, _ = make_account(client, "saq", Role.SECRETARIAT)
        answers = [
            await post_form(client, "/saq/password-reset", "/saq/password-reset", {"login": who})
            for who in (login, "nobody@example.cn")
        ]
        assert {(a.status_code, a.headers["location"]) for a in answers} == {
            (303, "/saq/password-reset/confirm?mailed=1")
        }
        code = mailed_code(client, "saq", login)
        page = "/saq/password-reset/confirm"
        password = new_password()
        weak = await post_form(
            client,
            page,
            page,
            {"token": code, "password": "password", "password_again": "password"},
        )
        assert "密码至少 10 位" in beside(weak, "password")
        client.headers.update(ENGLISH)
        wrong = await post_form(
            client,
            page,
            page,
            {"token": "x" * 20, "password": password, "password_again": password},
        )
        assert "The code is wrong, used or expired" in beside(wrong, "token")
        assert 'value="xxxxxxxxxxxxxxxxxxxx"' in wrong.text and password not in wrong.text
        client.headers.pop("accept-language")
        reset = await post_form(
            client, page, page, {"token": code, "password": password, "password_again": password}
        )
        assert reset.status_code == 200 and "密码已重置" in reset.text
        await sign_in(client, login, password)


async def test_changing_the_password_ends_every_session(anonymous: Client) -> None:
    client = anonymous
    with cheap_passwords(client, "saq"):
        login, password = make_account(client, "saq", Role.APPLICANT_UNIT, ICBC)
        await sign_in(client, login, password)
        new = new_password()
        wrong = await post_form(
            client,
            "/saq/account",
            "/saq/account/password",
            {"current_password": "not-it-at-all", "password": new, "password_again": new},
        )
        assert wrong.status_code == 409 and "当前密码不正确" in beside(wrong, "current_password")
        english = await client.post(
            "/saq/account/password",
            data={
                "csrf_token": TOKEN.findall(wrong.text)[-1],
                "current_password": password,
                "password": new,
                "password_again": "different-Pass-1",
            },
            headers=ENGLISH,
        )
        assert "The two passwords differ" in beside(english, "password_again")
        session = dict(client.cookies)
        changed = await post_form(
            client,
            "/saq/account",
            "/saq/account/password",
            {"current_password": password, "password": new, "password_again": new},
        )
        assert changed.status_code == 200 and "密码已修改" in changed.text
        client.cookies.update(session)  # the old session's cookie, kept by someone
        gone = await client.get("/saq/account", headers={"accept": "text/html"})
        assert gone.status_code == 401
        await sign_in(client, login, new)
