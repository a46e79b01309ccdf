"""推荐全国 in the browser, through the test client on SQLite and PostgreSQL: Shanghai's
secretariat sees the national campaign, its window and quota, forwards a published result (an
evaluation over the national limit refused beside its field, nothing stored), withdraws it
(a missing reason refused beside its field) and reads its national status; CAQ's secretariat
reads the intake with the withdrawal's reason and grants extra places; the applicant reads where
its result stands nationally; a recommending unit gets no forwarding page."""

from __future__ import annotations

import re
from typing import Any

import pytest

from aggregates.actor import Role
from tests.api.conftest import make_account
from tests.api.national_world import CAQ, eventually, national_campaign
from tests.api.published_world import (
    Client,
    Secretariat,
    cheap_passwords,
    ok,
    publish_campaign,
)
from tests.support import Clock, beijing

pytestmark = pytest.mark.tenants("saq", "caq")

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


async def page_session(client: Client, tenant: str, role: Role, scope: str | None = None) -> str:
    """Signed in through the tenant's sign-in page (the cookie); the session's CSRF token."""
    client.cookies.clear()
    with cheap_passwords(client, tenant):
        login, password = make_account(client, tenant, role, scope)
        form = await client.get(f"/{tenant}/sign-in")
        token = TOKEN.search(form.text)
        assert token is not None
        done = await client.post(
            f"/{tenant}/sign-in",
            data={"login": login, "password": password, "csrf_token": token.group(1)},
            follow_redirects=False,
        )
    assert done.status_code == 303, done.text
    found = TOKEN.search((await client.get(f"/{tenant}/")).text)
    assert found is not None
    return found.group(1)


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def test_a_province_forwards_and_withdraws_and_caq_reads_its_intake(
    anonymous: Client, clock: Clock
) -> None:
    published = await publish_campaign(anonymous, clock, "saq", units=("huangpu",), per_unit=2)
    clock.now = beijing(2024, 6, 10, 9, 0)
    national = Secretariat(anonymous, clock, "caq")
    with cheap_passwords(anonymous, "caq"):
        headers = await national.headers()
    opened: dict[str, Any] = ok(
        await anonymous.post(f"{CAQ}/campaigns", json=national_campaign(), headers=headers),
        201,
        "caq opens its campaign",
    )
    result = published.graded()[0]

    csrf = await page_session(anonymous, "saq", Role.SECRETARIAT)
    base = f"/saq/secretariat/campaigns/{published.campaign_id}/national-forwarding"
    page = await anonymous.get(base)
    assert page.status_code == 200, page.text
    shown = text(page.text)
    assert opened["title"] in shown
    assert "已推荐 0 /" in shown
    assert result["serial"] in shown

    too_long = "优" * 301
    refused = await anonymous.post(
        f"{base}/forward",
        data={"csrf_token": csrf, "submission_id": result["id"], "evaluation": too_long},
    )
    assert refused.status_code == 422, refused.text
    assert "推荐意见限 300 字" in refused.text
    assert too_long in refused.text  # the input kept
    assert "已推荐 0 /" in text((await anonymous.get(base)).text)  # nothing stored

    done = await anonymous.post(
        f"{base}/forward",
        data={"csrf_token": csrf, "submission_id": result["id"], "evaluation": "成果效益显著。"},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    shown = text((await anonymous.get(base)).text)
    assert "已推荐 1 /" in shown and "成果效益显著。" in shown

    no_reason = await anonymous.post(
        f"{base}/{result['id']}/withdraw", data={"csrf_token": csrf, "reason": " "}
    )
    assert no_reason.status_code == 422
    assert "请说明撤回推荐的原因" in no_reason.text
    withdrawn = await anonymous.post(
        f"{base}/{result['id']}/withdraw",
        data={"csrf_token": csrf, "reason": "企业申请撤回，待补充数据后明年再报"},
        follow_redirects=False,
    )
    assert withdrawn.status_code == 303, withdrawn.text
    assert "已撤回：企业申请撤回" in text((await anonymous.get(base)).text)

    caq_csrf = await page_session(anonymous, "caq", Role.SECRETARIAT)
    intake = f"/caq/national/campaigns/{opened['id']}/intake"

    async def withdrawal_received() -> bool:
        return "已撤回：企业申请撤回" in text((await anonymous.get(intake)).text)

    await eventually(withdrawal_received, "the intake records the withdrawal")
    bad = await anonymous.post(
        f"{intake}/shanghai/quota", data={"csrf_token": caq_csrf, "extra": "两个", "reason": ""}
    )
    assert bad.status_code == 422
    assert 'value="两个"' in bad.text
    granted = await anonymous.post(
        f"{intake}/shanghai/quota",
        data={"csrf_token": caq_csrf, "extra": "2", "reason": "上海成果数量多，增加名额"},
        follow_redirects=False,
    )
    assert granted.status_code == 303, granted.text


async def test_the_applicant_reads_where_its_result_stands_nationally(
    anonymous: Client, clock: Clock
) -> None:
    published = await publish_campaign(anonymous, clock, "saq", units=("huangpu",), per_unit=2)
    clock.now = beijing(2024, 6, 10, 9, 0)
    national = Secretariat(anonymous, clock, "caq")
    with cheap_passwords(anonymous, "caq"):
        headers = await national.headers()
    ok(await anonymous.post(f"{CAQ}/campaigns", json=national_campaign(), headers=headers), 201, "")
    result = published.graded()[0]
    csrf = await page_session(anonymous, "saq", Role.SECRETARIAT)
    base = f"/saq/secretariat/campaigns/{published.campaign_id}/national-forwarding"
    await anonymous.post(
        f"{base}/forward",
        data={"csrf_token": csrf, "submission_id": result["id"], "evaluation": "推荐。"},
    )

    await page_session(anonymous, "saq", Role.APPLICANT_UNIT, result["credit_code"])
    mine = await anonymous.get(f"/saq/applicant/results/{result['id']}")
    assert mine.status_code == 200, mine.text
    assert "全国结果" in mine.text and "已推荐全国，待全国形式审查" in mine.text

    await page_session(anonymous, "saq", Role.RECOMMENDING_UNIT, "huangpu")
    assert (await anonymous.get(base)).status_code in (403, 404)
