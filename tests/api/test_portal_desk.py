"""The secretariat's campaign desk over the test client, on SQLite and PostgreSQL: its counts are
the statistics API's, the late units are listed and reminded by mail (read back from the mail
folder, recorded on the campaign), the applicant units below the least number of results are
shown (and told on their own page), and the desk is refused to a recommending unit and an
applicant."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID, uuid4

import pytest
from litestar.testing import AsyncTestClient

from aggregates.actor import Role
from aggregates.campaign import Campaign
from api.platform.mail import delivered_mail
from tests.api.conftest import make_account, sign_in
from tests.api.published_world import cheap_passwords
from tests.api.test_portal_pages import TOKEN, post_sign_in
from tests.api.test_recommendations import REVIEWER, form_url, recommend
from tests.api.test_submissions import ICBC, SAQ, Journey, journey, qc_result

pytestmark = pytest.mark.tenants("saq")

Client = AsyncTestClient[Any]


async def page_session(client: Client, role: Role, scope: str | None = None) -> str:
    """A `role` account signed in through the sign-in page (cookie); its login."""
    client.cookies.clear()
    with cheap_passwords(client, "saq"):
        login, password = make_account(client, "saq", role, scope)
        signed_in = await post_sign_in(client, login, password)
    assert signed_in.status_code == 303, signed_in.text
    return login


async def season(client: Client) -> tuple[Journey, str]:
    """A QC campaign asking for at least two results: ICBC filed one (recommended by pudong, whose
    form is filed) and drafted another. The unit account pudong's login."""
    secretariat = await sign_in(client, "saq", Role.SECRETARIAT)
    client.headers.update(secretariat)
    j = await journey(client, results_per_applicant_min=2)
    pudong_login, _ = make_account(client, "saq", Role.RECOMMENDING_UNIT, "pudong")
    submitted = await j.complete(qc_result())
    assert (await j.submit(submitted)).status_code == 200
    assert (await j.draft(qc_result("innovative"))).status_code == 201
    url = form_url(j)
    await client.post(f"{url}/recommendation/reviewers", json=REVIEWER, headers=j.unit)
    assert (await recommend(client, j, submitted)).status_code == 200
    await client.post(
        f"{url}/recommendation/declaration",
        json={"filled_by": "陈静", "phone": "021-58881234"},
        headers=j.unit,
    )
    filed = await client.post(f"{url}/recommendation/file", headers=j.unit)
    assert filed.status_code == 200, filed.text
    client.headers.pop("Authorization")
    return j, pudong_login


def cells(text: str, unit: str) -> dict[str, str]:
    row = re.search(rf'<tr[^>]*data-unit="{re.escape(unit)}">(.*?)</tr>', text, re.S)
    assert row is not None, unit
    return dict(re.findall(r'data-stage="(\w+)">([^<]*)<', row.group(1)))


async def test_the_desk_counts_are_the_statistics_api_figures(anonymous: Client) -> None:
    j, _ = await season(anonymous)
    secretariat = await sign_in(anonymous, "saq", Role.SECRETARIAT)
    campaign_id = j.campaign["id"]
    await page_session(anonymous, Role.SECRETARIAT)
    listed = await anonymous.get("/saq/secretariat/campaigns")
    assert listed.status_code == 200
    assert j.campaign["title"] in listed.text and '<svg viewBox="0 -46 1000' in listed.text
    assert "今天" in listed.text and f"/saq/secretariat/campaigns/{campaign_id}" in listed.text

    desk = await anonymous.get(f"/saq/secretariat/campaigns/{campaign_id}")
    assert desk.status_code == 200, desk.text
    # The API's figures, asked after the desk, which waits for the read models to catch up.
    figures = await anonymous.get(
        f"{SAQ}/campaigns/{campaign_id}/statistics",
        params={"by": "recommending_unit"},
        headers=secretariat,
    )
    assert figures.status_code == 200, figures.text
    overall = await anonymous.get(f"{SAQ}/campaigns/{campaign_id}/statistics", headers=secretariat)
    total, pudong = cells(desk.text, ""), cells(desk.text, "浦东新区")
    body = figures.json()
    (group,) = [g["figures"] for g in body["groups"] if g["key"] == "pudong"]
    stages = (
        "submissions",
        "withdrawn",
        "recommended",
        "formal_passed",
        "formal_rejected",
        "graded",
    )
    for stage in stages:
        assert total[stage] == str(overall.json()["totals"]["figures"][stage]), stage
        assert pudong[stage] == str(group[stage]), stage
    assert total["registrations"] == str(overall.json()["totals"]["figures"]["registrations"])
    assert (total["submissions"], total["recommended"], total["drafted"]) == ("1", "1", "1")
    assert pudong["registrations"] == "—"
    assert "距成果推荐截止还有" in desk.text and "接下来的截止时间" in desk.text

    part = await anonymous.get(f"/saq/secretariat/campaigns/{campaign_id}/counts")
    assert part.status_code == 200 and "<html" not in part.text  # what htmx swaps in each minute
    assert cells(part.text, "") == total

    english = await anonymous.get(
        f"/saq/secretariat/campaigns/{campaign_id}", headers={"accept-language": "en"}
    )
    assert "Counts by stage" in english.text and "Formal review passed" in english.text


async def test_the_late_units_are_reminded_by_mail_and_the_reminder_is_recorded(
    anonymous: Client,
) -> None:
    j, pudong_login = await season(anonymous)
    campaign_id = j.campaign["id"]
    await page_session(anonymous, Role.SECRETARIAT)
    desk = await anonymous.get(f"/saq/secretariat/campaigns/{campaign_id}")
    late = dict(re.findall(r'data-late="(\w+)">(.*?)</tr>', desk.text, re.S))
    assert "pudong" in late and "huangpu" in late
    assert late["pudong"].count("未报送") == 2  # its 推荐表 is filed
    assert late["huangpu"].count("未报送") == 3
    token = TOKEN.search(desk.text)
    assert token is not None

    reminded = await anonymous.post(
        f"/saq/secretariat/campaigns/{campaign_id}/reminders",
        data={"csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert reminded.status_code == 303, reminded.text
    shown = await anonymous.get(reminded.headers["location"])
    assert "已向" in shown.text and "发送提醒邮件" in shown.text
    assert "个单位尚无可用账号" in shown.text  # huangpu and the others have no account here

    anonymous.app.state.mail.send_pending()
    (mail,) = delivered_mail(anonymous.app.state.settings, "saq", pudong_login)
    assert "统计表、工作总结" in str(mail["Subject"])
    text = str(mail.get_content())
    assert j.campaign["title"] in text and "成果推荐截止时间：2024年3月1日 22:00" in text
    assert "推荐表" not in text.split("尚未报送：")[1].split("。", maxsplit=1)[0]
    ledger = anonymous.app.state.platform.tenants["saq"].ledger
    (recorded,) = [
        e for e in ledger.events.get(UUID(campaign_id)) if isinstance(e, Campaign.LateUnitsReminded)
    ]
    assert recorded.reminders["pudong"] == ["statistics", "work_summary"]
    assert recorded.recipients >= 2 and recorded.actor_role == "secretariat"

    # An auditor reads the desk but has no button, and may not remind.
    await page_session(anonymous, Role.AUDITOR)
    read = await anonymous.get(f"/saq/secretariat/campaigns/{campaign_id}")
    assert read.status_code == 200 and "发送邮件提醒" not in read.text
    token = TOKEN.search(read.text)
    assert token is not None
    refused = await anonymous.post(
        f"/saq/secretariat/campaigns/{campaign_id}/reminders",
        data={"csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert refused.status_code == 403


async def test_the_units_below_the_minimum_are_shown_on_the_desk_and_to_the_unit(
    anonymous: Client,
) -> None:
    j, _ = await season(anonymous)
    campaign_id = j.campaign["id"]
    await page_session(anonymous, Role.SECRETARIAT)
    desk = await anonymous.get(f"/saq/secretariat/campaigns/{campaign_id}")
    row = re.search(rf'data-below="{ICBC}">(.*?)</tr>', desk.text, re.S)
    assert row is not None and "中国工商银行股份有限公司上海市分行" in row.group(1)
    assert "至少申报 2 项成果" in desk.text and "形式审查时作为审查项提示" in desk.text

    await page_session(anonymous, Role.APPLICANT_UNIT, ICBC)
    mine = await anonymous.get("/saq/applicant/")
    assert mine.status_code == 200
    assert "本单位已申报 1 项成果，本活动要求每家申报单位至少申报 2 项" in mine.text


async def test_the_desk_is_refused_to_a_unit_and_an_applicant_and_unknown_campaigns_are_404(
    anonymous: Client,
) -> None:
    j, _ = await season(anonymous)
    campaign_id = j.campaign["id"]
    for role, scope in ((Role.RECOMMENDING_UNIT, "pudong"), (Role.APPLICANT_UNIT, ICBC)):
        await page_session(anonymous, role, scope)
        for path in ("/saq/secretariat/campaigns", f"/saq/secretariat/campaigns/{campaign_id}"):
            refused = await anonymous.get(path)
            assert refused.status_code == 403, (role, path)
            assert "<html" in refused.text and "Traceback" not in refused.text
        assert "活动工作台" not in (await anonymous.get("/saq/")).text  # not in its navigation
    await page_session(anonymous, Role.SECRETARIAT)
    assert "活动工作台" in (await anonymous.get("/saq/")).text
    missing = await anonymous.get(f"/saq/secretariat/campaigns/{uuid4()}")
    assert missing.status_code == 404 and "<html" in missing.text
