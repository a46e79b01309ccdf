"""Accounts over HTTP: registration, invitations, sign-in, lock-out, resets, sessions, CSRF."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import AsyncTestClient

from aggregates.actor import Role
from api.platform.mail import delivered_mail
from tests.api.claims_support import documents
from tests.api.conftest import make_account, sign_in
from tests.support import Clock, campaign_body, new_password

pytestmark = pytest.mark.tenants("saq")

Client = AsyncTestClient[Any]
SAQ = "/api/v1/tenants/saq"
ICBC = "91100000100003962T"  # 中国工商银行股份有限公司


def last_mail(client: Client, login: str) -> str:
    """The body of the newest mail delivered to `login` (the mail folder is the mail server
    when no SMTP server is configured; the outbox keeps no body once sent)."""
    client.app.state.mail.send_pending()
    mails = delivered_mail(client.app.state.settings, "saq", login)
    assert mails, f"no mail to {login}"
    return str(mails[-1].get_content())


def last_code(client: Client, login: str) -> str:
    """The confirmation code of the newest mail delivered to `login`."""
    found = re.search(r"确认码：(\S+)", last_mail(client, login))
    assert found is not None
    return found.group(1)


async def register(anonymous: Client, email: str, secret: str, **overrides: Any) -> Any:
    body = {
        "login": email,
        "name": "王芳",
        "password": secret,
        "enterprise_name": "中国工商银行股份有限公司上海市分行",
        "credit_code": ICBC.lower(),
        **documents(email),
        **overrides,
    }
    return await anonymous.post(f"{SAQ}/registrations", json=body)


async def login(anonymous: Client, login: str, password: str) -> Any:
    return await anonymous.post(f"{SAQ}/session", json={"login": login, "password": password})


async def test_an_applicant_registers_confirms_and_signs_in(anonymous: Client) -> None:
    password = new_password()
    registered = await register(anonymous, "wangfang@icbc.example.cn", password)
    assert registered.status_code == 202
    assert (
        await login(anonymous, "wangfang@icbc.example.cn", password)
    ).status_code == 403  # pending

    code = last_code(anonymous, "wangfang@icbc.example.cn")
    confirmed = await anonymous.post(f"{SAQ}/registrations/confirm", json={"token": code})
    again = await anonymous.post(f"{SAQ}/registrations/confirm", json={"token": code})
    signed_in = await login(anonymous, "wangfang@icbc.example.cn", password)

    assert confirmed.status_code == 200
    assert confirmed.json()["grants"][0]["scope"] == ICBC
    assert confirmed.json()["speaks_for"] == []  # until its licence and letter are checked
    assert confirmed.json()["claims"][0]["status"] == "awaiting_verification"
    assert again.status_code == 400  # single use
    assert signed_in.status_code == 201
    assert signed_in.json()["account"]["grants"][0]["role"] == "applicant_unit"


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        ({"credit_code": "91100000100003962X"}, "credit_code", "check_character"),
        ({"password": "Admin2024@"}, "password", "common"),
        ({"password": "short1!"}, "password", "min_length"),
        ({"login": "not-an-email"}, "login", "email_format"),
    ],
    ids=["credit code check character", "shared password", "short password", "login not e-mail"],
)
async def test_a_bad_registration_is_refused_and_nothing_is_sent(
    anonymous: Client, overrides: dict[str, str], field: str, rule: str
) -> None:
    response = await register(anonymous, "lisi@example.cn", new_password(), **overrides)
    assert response.status_code == 422
    assert (field, rule) in [(e["field"], e["rule"]) for e in response.json()["errors"]]
    assert anonymous.app.state.auth["saq"].mail_to("lisi@example.cn") == []


async def test_a_confirmation_code_expires(anonymous: Client, clock: Clock) -> None:
    await register(anonymous, "zhao@example.cn", new_password())
    code = last_code(anonymous, "zhao@example.cn")
    clock.now += timedelta(days=2, seconds=1)
    response = await anonymous.post(f"{SAQ}/registrations/confirm", json={"token": code})
    assert response.status_code == 400
    assert response.json()["errors"][0]["rule"] == "invalid_token"


async def test_the_secretariat_invites_a_recommending_unit_which_accepts(client: Client) -> None:
    invited = await client.post(
        f"{SAQ}/accounts/invitations",
        json={
            "login": "pudong@example.cn",
            "name": "浦东新区联络员",
            "role": "recommending_unit",
            "unit": "pudong",
        },
    )
    assert invited.status_code == 201, invited.text
    assert invited.json()["account"]["grants"][0]["details"] == {"unit_name": "浦东新区"}
    password = new_password()
    code = last_code(client, "pudong@example.cn")
    accepted = await client.post(
        f"{SAQ}/invitations/accept", json={"token": code, "password": password}
    )
    reused = await client.post(
        f"{SAQ}/invitations/accept", json={"token": code, "password": password}
    )

    assert accepted.status_code == 200
    assert accepted.json()["status"] == "active"
    assert reused.status_code == 400
    assert (await login(client, "pudong@example.cn", password)).status_code == 201


async def test_an_invitation_to_an_unknown_unit_is_refused(client: Client) -> None:
    response = await client.post(
        f"{SAQ}/accounts/invitations",
        json={
            "login": "x@example.cn",
            "name": "某人",
            "role": "recommending_unit",
            "unit": "atlantis",
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "unit"


async def test_repeated_failed_sign_ins_lock_the_account(client: Client, clock: Clock) -> None:
    password = new_password()
    await register(client, "locked@example.cn", password)
    await client.post(
        f"{SAQ}/registrations/confirm", json={"token": last_code(client, "locked@example.cn")}
    )
    for _ in range(5):
        assert (await login(client, "locked@example.cn", "Wrong-password-1")).status_code == 401

    refused = await login(client, "locked@example.cn", password)
    assert refused.status_code == 401  # as for a wrong password: nothing tells it is locked
    assert refused.json()["errors"][0]["rule"] == "invalid_credentials"
    ledger = client.app.state.platform.tenants["saq"].ledger
    account = ledger.find_account("locked@example.cn")
    assert [type(e).__name__ for e in ledger.events.get(account.id)][-1] == "Locked"

    clock.now += timedelta(minutes=15, seconds=1)
    assert (await login(client, "locked@example.cn", password)).status_code == 201


async def test_the_secretariat_unlocks_a_locked_account(client: Client) -> None:
    password = new_password()
    await register(client, "unlock@example.cn", password)
    await client.post(
        f"{SAQ}/registrations/confirm", json={"token": last_code(client, "unlock@example.cn")}
    )
    for _ in range(5):
        await login(client, "unlock@example.cn", "Wrong-password-1")
    account = client.app.state.platform.tenants["saq"].ledger.find_account("unlock@example.cn")

    unlocked = await client.post(f"{SAQ}/accounts/{account.id}/unlock")

    assert unlocked.status_code == 200
    assert (await login(client, "unlock@example.cn", password)).status_code == 201


async def test_many_failures_from_one_address_are_throttled(anonymous: Client) -> None:
    for i in range(20):
        await login(anonymous, f"nobody{i}@example.cn", "Wrong-password-1")
    response = await login(anonymous, "nobody@example.cn", "Wrong-password-1")
    assert response.status_code == 429


async def test_a_password_reset_code_works_once_and_expires(
    anonymous: Client, clock: Clock
) -> None:
    old = new_password()
    await register(anonymous, "reset@example.cn", old)
    await anonymous.post(
        f"{SAQ}/registrations/confirm", json={"token": last_code(anonymous, "reset@example.cn")}
    )
    unknown = await anonymous.post(f"{SAQ}/password-resets", json={"login": "ghost@example.cn"})
    requested = await anonymous.post(f"{SAQ}/password-resets", json={"login": "reset@example.cn"})
    assert unknown.status_code == requested.status_code == 202
    assert unknown.json() == requested.json()  # no hint whether the login exists
    code, new = last_code(anonymous, "reset@example.cn"), new_password()

    reset = await anonymous.post(
        f"{SAQ}/password-resets/confirm", json={"token": code, "new_password": new}
    )
    again = await anonymous.post(
        f"{SAQ}/password-resets/confirm", json={"token": code, "new_password": new}
    )
    assert (reset.status_code, again.status_code) == (204, 400)
    assert (await login(anonymous, "reset@example.cn", old)).status_code == 401
    assert (await login(anonymous, "reset@example.cn", new)).status_code == 201

    await anonymous.post(f"{SAQ}/password-resets", json={"login": "reset@example.cn"})
    late = last_code(anonymous, "reset@example.cn")
    clock.now += timedelta(hours=1, seconds=1)
    expired = await anonymous.post(
        f"{SAQ}/password-resets/confirm", json={"token": late, "new_password": new_password()}
    )
    assert expired.status_code == 400


async def test_logout_and_password_change_revoke_sessions(anonymous: Client) -> None:
    headers = await sign_in(anonymous, "saq", Role.SECRETARIAT)
    assert (await anonymous.get(f"{SAQ}/me", headers=headers)).status_code == 200
    assert (await anonymous.delete(f"{SAQ}/session", headers=headers)).status_code == 204
    assert (await anonymous.get(f"{SAQ}/me", headers=headers)).status_code == 401

    password = new_password()
    await register(anonymous, "change@example.cn", password)
    await anonymous.post(
        f"{SAQ}/registrations/confirm", json={"token": last_code(anonymous, "change@example.cn")}
    )
    first = (await login(anonymous, "change@example.cn", password)).json()["token"]
    second = (await login(anonymous, "change@example.cn", password)).json()["token"]
    anonymous.cookies.clear()
    changed = await anonymous.post(
        f"{SAQ}/me/password",
        json={"current_password": password, "new_password": new_password()},
        headers={"Authorization": f"Bearer {first}"},
    )
    assert changed.status_code == 204
    for token in (first, second):
        assert (
            await anonymous.get(f"{SAQ}/me", headers={"Authorization": f"Bearer {token}"})
        ).status_code == 401


async def test_a_cookie_session_needs_its_csrf_token_to_change_anything(anonymous: Client) -> None:
    email, password = make_account(anonymous, "saq", Role.SECRETARIAT)
    signed_in = await login(anonymous, email, password)
    assert "qcflow_session" in signed_in.headers.get("set-cookie", "")
    assert "HttpOnly" in signed_in.headers["set-cookie"]
    csrf = signed_in.json()["csrf_token"]

    read = await anonymous.get(f"{SAQ}/campaigns")  # the cookie alone is enough to read
    without = await anonymous.post(f"{SAQ}/campaigns", json=campaign_body())
    with_token = await anonymous.post(
        f"{SAQ}/campaigns", json=campaign_body(), headers={"X-CSRF-Token": csrf}
    )

    assert read.status_code == 200
    assert without.status_code == 403
    assert without.json()["errors"][0]["rule"] == "csrf"
    assert with_token.status_code == 201


async def test_events_record_the_signed_in_account_and_role(client: Client) -> None:
    me = (await client.get(f"{SAQ}/me")).json()
    opened = (await client.post(f"{SAQ}/campaigns", json=campaign_body())).json()
    ledger = client.app.state.platform.tenants["saq"].ledger
    event = next(iter(ledger.events.get(UUID(opened["id"]))))
    assert (event.actor_id, event.actor_role) == (me["id"], "secretariat")


async def test_no_password_token_or_hash_reaches_the_log(
    anonymous: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    password, new = new_password(), new_password()
    await register(anonymous, "quiet@example.cn", password)
    code = last_code(anonymous, "quiet@example.cn")
    await anonymous.post(f"{SAQ}/registrations/confirm", json={"token": code})
    session = (await login(anonymous, "quiet@example.cn", password)).json()
    await login(anonymous, "quiet@example.cn", "Wrong-password-1")
    await anonymous.post(f"{SAQ}/password-resets", json={"login": "quiet@example.cn"})
    reset_code = last_code(anonymous, "quiet@example.cn")
    await anonymous.post(
        f"{SAQ}/password-resets/confirm", json={"token": reset_code, "new_password": new}
    )
    anonymous.app.state.mail.send_pending()
    account = anonymous.app.state.platform.tenants["saq"].ledger.find_account("quiet@example.cn")

    captured = capsys.readouterr()
    log = captured.out + captured.err
    assert "request_finished" in log
    for secret in (
        password,
        new,
        code,
        reset_code,
        session["token"],
        session["csrf_token"],
        account.password_hash,
    ):
        assert secret not in log
    assert "$argon2" not in log


async def test_an_invitation_expires_after_seven_days(client: Client, clock: Clock) -> None:
    await client.post(
        f"{SAQ}/accounts/invitations",
        json={"login": "late@example.cn", "name": "审计员", "role": "auditor"},
    )
    code = last_code(client, "late@example.cn")
    clock.now += timedelta(days=7, seconds=1)
    response = await client.post(
        f"{SAQ}/invitations/accept", json={"token": code, "password": new_password()}
    )
    assert response.status_code == 400
    assert (
        client.app.state.platform.tenants["saq"].ledger.find_account("late@example.cn").status
        == "pending"
    )
