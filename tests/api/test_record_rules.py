"""The applicant's record rule (api/platform/records.py), on SQLite and PostgreSQL: a submission is an
applicant's iff its credit code is one the account speaks for, or the account began it; the
list, the record and its changes all follow that one rule."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar.testing import AsyncTestClient

from aggregates.actor import Actor, Role
from tests.api.conftest import sign_in
from tests.api.test_submissions import APPLICANT_BLOCK, SAQ, journey, qc_result

Client = AsyncTestClient[Any]
UNGRANTED = "91310000132260250X"
"""A credit code no account of the test holds a grant for."""


async def account_id(client: Client, headers: dict[str, str]) -> str:
    me = await client.get(f"{SAQ}/me", headers=headers)
    assert me.status_code == 200, me.text
    return str(me.json()["id"])


async def test_an_applicant_reads_and_changes_what_it_began_and_no_one_else_does(
    client: Client,
) -> None:
    j = await journey(client)
    campaign_id = j.campaign["id"]
    beginner = await sign_in(client, "saq", Role.APPLICANT_UNIT, "91310115MA1H7GQE2X")
    drafted = await client.post(
        f"{SAQ}/campaigns/{campaign_id}/submissions",
        json={**qc_result(), "applicant": APPLICANT_BLOCK},
        headers=j.applicant,
    )
    assert drafted.status_code == 201, drafted.text
    by_code = drafted.json()["id"]
    # Begun by this account under a code it holds no grant for (as an account whose claim on
    # the code is not yet established would): its own, and no one else's but the secretariat's.
    ledger = client.app.state.platform.tenants["saq"].ledger
    begun, _ = ledger.draft_submission(
        campaign_id=UUID(campaign_id),
        credit_code=UNGRANTED,
        applicant={"unit_name": "未认领企业有限公司"},
        recommending_unit="pudong",
        form=ledger.get_submission(UUID(by_code)).form,
        actor=Actor(await account_id(client, beginner), Role.APPLICANT_UNIT),
    )
    client.app.state.views["saq"].wait(ledger.recorder.max_notification_id())  # the list's
    url = f"{SAQ}/campaigns/{campaign_id}/submissions"

    async def listed(headers: dict[str, str]) -> list[str]:
        response = await client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        return [r["submission_id"] for r in response.json()["items"]]

    async def shown(headers: dict[str, str], submission_id: str) -> int:
        response = await client.get(f"{SAQ}/submissions/{submission_id}", headers=headers)
        return response.status_code

    ungranted = str(begun.id)
    assert await listed(beginner) == [ungranted]
    assert await shown(beginner, ungranted) == 200
    assert await shown(beginner, by_code) == 404
    edited = await client.put(
        f"{SAQ}/submissions/{ungranted}",
        json={**qc_result(group_name="认领前自行修改的小组")},
        headers=beginner,
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["form"]["group_name"] == "认领前自行修改的小组"

    assert await listed(j.applicant) == [by_code]  # ICBC's own by its code, not the other
    assert await shown(j.applicant, ungranted) == 404
    refused = await client.put(
        f"{SAQ}/submissions/{ungranted}", json=qc_result(), headers=j.applicant
    )
    assert refused.status_code == 404
    assert await listed(j.unit) == []  # drafts are no recommending unit's
