"""Objections to the public notice (公示) by anyone, without an account: a real name and an
e-mail address confirmed by a mailed code (issue 20 §6). Nothing is filed until the code is
confirmed; the code is good once and only for the objection it was mailed for; asking is
limited per e-mail address as sign-in is."""

from __future__ import annotations

import re
from typing import Any

import pytest

from aggregates.actor import Role
from api.platform.mail import delivered_mail
from tests.api.conftest import sign_in
from tests.api.published_world import Client, Published, publish_campaign
from tests.support import Clock

pytestmark = pytest.mark.tenants("saq")
EMAIL = "zhangsan@example.cn"


def mailed_code(client: Client, recipient: str) -> str:
    client.app.state.mail.send_pending()
    mails = delivered_mail(client.app.state.settings, "saq", recipient)
    assert mails, f"no mail to {recipient}"
    found = re.search(r"确认码：(\S+)", str(mails[-1].get_content()))
    assert found is not None
    return found.group(1)


async def in_notice(anonymous: Client, clock: Clock) -> tuple[Published, str, dict[str, str]]:
    world = await publish_campaign(
        anonymous, clock, "saq", units=("huangpu", "xuhui"), until="reviewed"
    )
    headers = await sign_in(anonymous, "saq", Role.SECRETARIAT)
    base = f"/api/v1/tenants/saq/campaigns/{world.campaign_id}"
    assert (await anonymous.post(f"{base}/grading", headers=headers)).status_code == 201
    assert (await anonymous.post(f"{base}/notice", headers=headers)).status_code == 200
    return world, base, headers


def objection(world: Published, **overrides: Any) -> dict[str, Any]:
    return {
        "submission_id": world.submissions[0]["id"],
        "reasons": "该成果的数据与企业年报不符。",
        "name": "张三",
        "email": EMAIL,
        "phone": "13800001234",
    } | overrides


async def objections(client: Client, base: str, headers: dict[str, str]) -> list[Any]:
    response = await client.get(f"{base}/grading", headers=headers)
    assert response.status_code == 200, response.text
    found: list[Any] = response.json()["objections"]
    return found


async def test_anyone_objects_with_a_mailed_code(anonymous: Client, clock: Clock) -> None:
    world, base, headers = await in_notice(anonymous, clock)
    asked = await anonymous.post(f"{base}/public-objections", json=objection(world))
    assert asked.status_code == 202, asked.text
    pending = asked.json()["pending"]
    assert await objections(anonymous, base, headers) == []  # nothing filed before the code

    wrong = await anonymous.post(
        f"{base}/public-objections/confirm", json={"pending": pending, "code": "not-the-code"}
    )
    assert wrong.status_code == 400, wrong.text
    assert wrong.json()["errors"][0]["field"] == "code"

    code = mailed_code(anonymous, EMAIL)
    tampered = pending[:-4] + ("AAAA" if not pending.endswith("AAAA") else "BBBB")
    refused = await anonymous.post(
        f"{base}/public-objections/confirm", json={"pending": tampered, "code": code}
    )
    assert refused.status_code == 400, refused.text  # the code spent on a forged objection

    asked = await anonymous.post(f"{base}/public-objections", json=objection(world))
    pending = asked.json()["pending"]
    code = mailed_code(anonymous, EMAIL)
    confirmed = await anonymous.post(
        f"{base}/public-objections/confirm", json={"pending": pending, "code": code}
    )
    assert confirmed.status_code == 201, confirmed.text
    objection_id = confirmed.json()["objection_id"]
    (filed,) = await objections(anonymous, base, headers)
    assert filed["objection_id"] == objection_id
    assert filed["submission_id"] == world.submissions[0]["id"]
    assert filed["objector"] == {"name": "张三", "email": EMAIL, "phone": "13800001234"}
    assert filed["decision"] is None

    again = await anonymous.post(
        f"{base}/public-objections/confirm", json={"pending": pending, "code": code}
    )
    assert again.status_code == 400, again.text  # good once
    assert len(await objections(anonymous, base, headers)) == 1

    resolved = await anonymous.post(
        f"{base}/objections/{objection_id}/resolve",
        json={"decision": "dismissed", "reason": "经核实，数据一致。"},
        headers=headers,
    )
    assert resolved.status_code == 200, resolved.text


async def test_a_public_objection_names_what_is_wrong_and_mails_nothing(
    anonymous: Client, clock: Clock
) -> None:
    world, base, _ = await in_notice(anonymous, clock)
    refused = await anonymous.post(
        f"{base}/public-objections",
        json=objection(world, name=" ", email="not-an-address", phone="call me", reasons=""),
    )
    assert refused.status_code == 422, refused.text
    fields = {p["field"]: p["rule"] for p in refused.json()["errors"]}
    assert fields == {
        "name": "required",
        "email": "format",
        "phone": "format",
        "reasons": "required",
    }
    anonymous.app.state.mail.send_pending()
    assert delivered_mail(anonymous.app.state.settings, "saq", "not-an-address") == []


async def test_public_objections_need_the_notice_and_are_limited_per_address(
    anonymous: Client, clock: Clock
) -> None:
    world = await publish_campaign(
        anonymous, clock, "saq", units=("huangpu", "xuhui"), until="reviewed"
    )
    base = f"/api/v1/tenants/saq/campaigns/{world.campaign_id}"
    headers = await sign_in(anonymous, "saq", Role.SECRETARIAT)
    assert (await anonymous.post(f"{base}/grading", headers=headers)).status_code == 201
    early = await anonymous.post(f"{base}/public-objections", json=objection(world))
    assert early.status_code == 409, early.text  # graded, but not under notice yet
    assert (await anonymous.post(f"{base}/notice", headers=headers)).status_code == 200

    for _ in range(3):
        asked = await anonymous.post(f"{base}/public-objections", json=objection(world))
        assert asked.status_code == 202, asked.text
    throttled = await anonymous.post(f"{base}/public-objections", json=objection(world))
    assert throttled.status_code == 429, throttled.text
    other = await anonymous.post(
        f"{base}/public-objections", json=objection(world, email="lisi@example.cn")
    )
    assert other.status_code == 202, other.text
