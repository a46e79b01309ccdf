"""The enterprise on a result is the account's enterprise (issue 23, "Rules that slip"; ADR 0037):
a result and a 报名 carry the name the account's enterprise was verified under, never the name
typed; a change of name is its own event, and what is submitted after it carries the new name."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import AsyncTestClient

from aggregates.account import AccountStatus, Grant
from aggregates.actor import Actor, Role
from tests.api.claims_support import claimant
from tests.api.published_world import cheap_passwords
from tests.api.test_portal_forms import desk, qc_fields
from tests.api.test_portal_pages import TOKEN, post_sign_in
from tests.api.test_submissions import ICBC, SAQ, Journey, journey, qc_result
from tests.support import Clock, new_password

pytestmark = pytest.mark.tenants("saq")

Client = AsyncTestClient[Any]
VERIFIED = "中国工商银行股份有限公司上海市分行"
TYPED = "上海某某无关贸易有限公司"


async def verified_applicant(client: Client) -> tuple[Journey, UUID]:
    """A campaign (the client is its secretariat) and an account that registered for ICBC
    under its name, whose claim the secretariat has accepted: the journey's applicant."""
    j = await journey(client)
    login = f"icbc-{UUID(int=len(client.cookies) + 7).hex[:6]}@example.cn"
    j.applicant = await claimant(client, "saq", ICBC, login, name="李梅")
    account = client.app.state.platform.tenants["saq"].ledger.find_account(login)
    accepted = await client.post(f"{SAQ}/enterprise-claims/{account.id}/{ICBC}/accept")
    assert accepted.status_code == 200, accepted.text
    return j, account.id


async def draft_as_typed(j: Journey) -> Any:
    return await j.client.post(
        f"{SAQ}/campaigns/{j.campaign['id']}/submissions",
        json={**qc_result(), "applicant": {"unit_name": TYPED, "key_domain": "市场服务"}},
        headers=j.applicant,
    )


async def test_a_result_carries_the_verified_name_not_the_one_typed(client: Client) -> None:
    j, _ = await verified_applicant(client)
    drafted = await draft_as_typed(j)
    assert drafted.status_code == 201, drafted.text
    assert drafted.json()["applicant"]["unit_name"] == VERIFIED
    submission_id = drafted.json()["id"]
    listed = await client.get(f"{SAQ}/campaigns/{j.campaign['id']}/submissions")
    assert [
        r["unit_name"] for r in listed.json()["items"] if r["submission_id"] == submission_id
    ] in (
        [VERIFIED],
        [],  # drafts are not listed to the secretariat
    )


async def test_a_registration_carries_the_verified_name_not_the_one_typed(client: Client) -> None:
    j, _ = await verified_applicant(client)
    registered = await client.post(
        f"{SAQ}/campaigns/{j.campaign['id']}/registrations",
        json={
            "unit_name": TYPED,
            "member_unit": True,
            "nature": "国有",
            "key_industries": ["金融"],
            "key_domain": "市场服务",
            "address": "上海市浦东新区银城中路8号",
            "postcode": "200120",
            "managing_department": "运营管理部",
            "promoter": {
                "name": "王芳",
                "department_and_title": "运营管理部 经理",
                "mobile": "13800138000",
                "email": "wangfang@icbc.example.cn",
            },
            "intents": ["参加活动申报问题解决型课题"],
        },
        headers=j.applicant,
    )
    assert registered.status_code == 201, registered.text
    assert registered.json()["form"]["unit_name"] == VERIFIED


async def test_a_change_of_name_is_its_own_event_and_names_what_is_submitted_after_it(
    client: Client,
) -> None:
    j, account_id = await verified_applicant(client)
    submission_id = await j.complete(
        {**qc_result()},
    )
    renamed_to = "中国工商银行股份有限公司上海市分行营业部"
    unexplained = await client.post(
        f"{SAQ}/accounts/{account_id}/enterprise-name",
        json={"credit_code": ICBC, "enterprise_name": renamed_to, "reason": " "},
    )
    assert unexplained.status_code == 422, unexplained.text
    renamed = await client.post(
        f"{SAQ}/accounts/{account_id}/enterprise-name",
        json={"credit_code": ICBC, "enterprise_name": renamed_to, "reason": "新营业执照"},
    )
    assert renamed.status_code == 200, renamed.text
    submitted = await j.submit(submission_id)
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["applicant"]["unit_name"] == renamed_to
    ledger = client.app.state.platform.tenants["saq"].ledger
    kinds = [type(e).__name__ for e in ledger.events.get(UUID(submission_id))]
    assert "EnterpriseNamed" in kinds
    account_events = [type(e).__name__ for e in ledger.events.get(account_id)]
    assert account_events.count("EnterpriseRenamed") == 1
    listed = await client.get(f"{SAQ}/campaigns/{j.campaign['id']}/submissions")
    (row,) = [r for r in listed.json()["items"] if r["submission_id"] == submission_id]
    assert row["unit_name"] == renamed_to


async def test_a_draft_is_named_from_the_signed_in_account_at_its_last_version(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The draft's command reads the enterprise's name from the account the request signed in
    with (authentication read it at its last version), not loaded again: a rename made after
    the applicant signed in names the next draft."""
    j, account_id = await verified_applicant(client)
    first = await draft_as_typed(j)
    assert first.json()["applicant"]["unit_name"] == VERIFIED
    renamed_to = "中国工商银行股份有限公司上海市分行营业部"
    renamed = await client.post(
        f"{SAQ}/accounts/{account_id}/enterprise-name",
        json={"credit_code": ICBC, "enterprise_name": renamed_to, "reason": "新营业执照"},
    )
    assert renamed.status_code == 200, renamed.text
    ledger = client.app.state.platform.tenants["saq"].ledger
    loaded: list[str] = []
    find = ledger._find

    def counting(aggregate_id: UUID, kind: Any, *args: Any) -> Any:
        loaded.append(kind.__name__)
        return find(aggregate_id, kind, *args)

    monkeypatch.setattr(ledger, "_find", counting)
    drafted = await draft_as_typed(j)
    assert drafted.status_code == 201, drafted.text
    assert drafted.json()["applicant"]["unit_name"] == renamed_to
    # Once: authentication rebuilt the renamed account; the command did not load it again.
    assert loaded.count("Account") == 1


async def test_the_result_form_shows_the_enterprise_name_read_only_and_ignores_a_typed_one(
    anonymous: Client, clock: Clock
) -> None:
    d = await desk(anonymous, clock)  # an applicant of ICBC, granted with no name recorded
    ledger = anonymous.app.state.platform.tenants["saq"].ledger
    password = new_password()
    with cheap_passwords(anonymous, "saq"):
        account = ledger.register_account(
            login="lm@icbc.example.cn",
            name="李梅",
            password=password,
            status=AccountStatus.ACTIVE,
            grants=[Grant(Role.APPLICANT_UNIT, ICBC, (("enterprise_name", VERIFIED),))],
            actor=Actor("operator:test", Role.OPERATOR),
        )
        anonymous.cookies.clear()
        assert (await post_sign_in(anonymous, account.login, password)).status_code == 303
    new = f"/saq/applicant/campaigns/{d.campaign['id']}/submissions/new"
    shown = await anonymous.get(new)
    assert f'<p class="unit-name">{VERIFIED}</p>' in shown.text
    assert 'name="unit_name"' not in shown.text
    token = TOKEN.search(shown.text)
    assert token is not None
    drafted = await anonymous.post(
        new,
        data={**qc_fields(), "unit_name": TYPED, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert drafted.status_code == 303, drafted.text
    found = re.search(r"/submissions/([0-9a-f-]{36})", drafted.headers["location"])
    assert found is not None
    assert ledger.get_submission(UUID(found.group(1))).unit_name == VERIFIED
