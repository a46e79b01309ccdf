"""Enterprise claims in tests (ADR 0017): a self-registration with its two documents, and a
claimant signed in, as the real flow makes one."""

from __future__ import annotations

import base64
import re
from typing import Any

from litestar.testing import AsyncTestClient

from api.platform.mail import delivered_mail
from tests.support import new_password

Client = AsyncTestClient[Any]
LICENCE = b"%PDF-1.4\n%" + "营业执照".encode() + b"\n%%EOF\n"
LETTER = b"\xff\xd8\xff\xe0" + b"JFIF" + "授权委托书".encode()


def documents(login: str) -> dict[str, Any]:
    """The business licence (PDF) and the sealed authorisation letter (JPEG) of a claim."""
    return {
        "business_licence": {
            "name": "营业执照.pdf",
            "content": base64.b64encode(LICENCE + login.encode()).decode(),
        },
        "authorisation_letter": {
            "name": "授权委托书.jpg",
            "content": base64.b64encode(LETTER + login.encode()).decode(),
        },
    }


def delivered(client: Client, tenant: str, login: str) -> list[tuple[str, str]]:
    """(subject, body) of every mail delivered to `login`, oldest first: the mail folder is the
    mail server when no SMTP server is configured (the outbox keeps no body once sent)."""
    client.app.state.mail.send_pending()
    return [
        (str(m["Subject"]), str(m.get_content()))
        for m in delivered_mail(client.app.state.settings, tenant, login)
    ]


def mailed_code(client: Client, tenant: str, login: str) -> str:
    mails = delivered(client, tenant, login)
    assert mails, f"no mail to {login}"
    found = re.search(r"确认码：(\S+)", mails[-1][1])
    assert found is not None
    return found.group(1)


async def claimant(
    client: Client, tenant: str, credit_code: str, login: str, name: str = "冒名者"
) -> dict[str, str]:
    """Someone registers themself for the enterprise's credit code, confirms and signs in: the
    bearer header of an account whose claim awaits verification."""
    password = new_password()
    api = f"/api/v1/tenants/{tenant}"
    registered = await client.post(
        f"{api}/registrations",
        json={
            "login": login,
            "name": name,
            "password": password,
            "enterprise_name": "中国工商银行股份有限公司上海市分行",
            "credit_code": credit_code,
            **documents(login),
        },
    )
    assert registered.status_code == 202, registered.text
    code = mailed_code(client, tenant, login)
    confirmed = await client.post(f"{api}/registrations/confirm", json={"token": code})
    assert confirmed.status_code == 200, confirmed.text
    session = await client.post(f"{api}/session", json={"login": login, "password": password})
    assert session.status_code == 201, session.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {session.json()['token']}"}


async def refuse(client: Client, tenant: str, secretariat: dict[str, str], login: str) -> None:
    """The secretariat refuses the claim of the account `login` (its only claim), with a reason."""
    account = client.app.state.platform.tenants[tenant].ledger.find_account(login)
    assert account is not None
    (credit_code,) = (g.scope for g in account.grants if g.scope)
    refused = await client.post(
        f"/api/v1/tenants/{tenant}/enterprise-claims/{account.id}/{credit_code}/refuse",
        json={"reason": "授权委托书未加盖公章"},
        headers=secretariat,
    )
    assert refused.status_code == 200, refused.text


async def invited_colleague(
    client: Client,
    tenant: str,
    inviter: dict[str, str],
    credit_code: str,
    login: str,
    name: str = "同事赵六",
) -> dict[str, str]:
    """An account that speaks for the enterprise invites a colleague, who accepts and signs in:
    the colleague's bearer header."""
    api = f"/api/v1/tenants/{tenant}"
    invited = await client.post(
        f"{api}/enterprises/{credit_code}/invitations",
        json={"login": login, "name": name},
        headers=inviter,
    )
    assert invited.status_code == 201, invited.text
    password = new_password()
    code = mailed_code(client, tenant, login)
    accepted = await client.post(
        f"{api}/invitations/accept", json={"token": code, "password": password}
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["speaks_for"] == [credit_code]
    session = await client.post(f"{api}/session", json={"login": login, "password": password})
    assert session.status_code == 201, session.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {session.json()['token']}"}
