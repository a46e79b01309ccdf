"""The phase-control pages in the browser's place (the test client): the phases with their windows
and state, each act a two-step form (preview with who is affected, nothing stored; then
confirm), refusals beside the fields or above the form with nothing stored, the rules amended
before → after; only the secretariat."""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

import pytest

from aggregates.actor import Role
from tests.api.conftest import sign_in
from tests.api.published_world import Client, cheap_passwords
from tests.api.test_phase_control import season_body
from tests.api.test_portal_forms import TOKEN, signed_in
from tests.api.test_submissions import qc_result
from tests.support import Clock, beijing

pytestmark = pytest.mark.tenants("saq")

API = "/api/v1/tenants/saq"
CREDIT = "91310000MA1FL0XQ8U"


class Desk:
    def __init__(self, client: Client, campaign_id: str, token: str) -> None:
        self.client, self.campaign_id, self.token = client, campaign_id, token
        self.base = f"/saq/secretariat/campaigns/{campaign_id}"

    def version(self) -> int:
        ledger = self.client.app.state.platform.tenants["saq"].ledger
        return int(ledger.get_campaign(uuid.UUID(self.campaign_id)).version)

    async def post(self, path: str, **fields: str) -> Any:
        return await self.client.post(
            f"{self.base}{path}", data={"csrf_token": self.token, **fields}, follow_redirects=False
        )


async def desk(anonymous: Client, clock: Clock, *moment: int, drafts: int = 0) -> Desk:
    """saq's 2024 QC campaign (filing opened now by the API) with `drafts` open drafts; the
    client signed in as a secretariat through the sign-in page at `moment`."""
    clock.now = beijing(2024, 1, 15, 9, 30)
    with cheap_passwords(anonymous, "saq"):
        bearer = await sign_in(anonymous, "saq", Role.SECRETARIAT)
        created = await anonymous.post(f"{API}/campaigns", json=season_body(), headers=bearer)
        assert created.status_code == 201, created.text
        campaign_id = created.json()["id"]
        clock.now = beijing(2024, 2, 5, 9, 0)
        applicant = await sign_in(anonymous, "saq", Role.APPLICANT_UNIT, CREDIT)
        for k in range(drafts):
            body = qc_result(
                "problem_solving", group_name=f"第{k + 1}QC小组", topic_name=f"提高合格率{k}"
            )
            body["recommending_unit"] = "huangpu"
            body["applicant"] = {"unit_name": "上海浦江精密机械有限公司"}
            drafted = await anonymous.post(
                f"{API}/campaigns/{campaign_id}/submissions", json=body, headers=applicant
            )
            assert drafted.status_code == 201, drafted.text
        clock.now = beijing(*moment)
        anonymous.cookies.clear()
        token = await signed_in(anonymous, Role.SECRETARIAT)
    return Desk(anonymous, campaign_id, token)


def beside(page: str, field: str) -> str:
    found = re.search(rf'id="e-{re.escape(field)}">([^<]+)<', page)
    assert found is not None, f"nothing beside {field}"
    return html.unescape(found.group(1))


def text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


async def test_the_phases_with_their_windows_state_and_the_acts_allowed_now(
    anonymous: Client, clock: Clock
) -> None:
    d = await desk(anonymous, clock, 2024, 2, 10, 9, 0)
    page = await anonymous.get(f"{d.base}/phases")
    assert page.status_code == 200, page.text
    shown = text(page.text)
    assert "成果申报" in shown and "2024年3月1日 22:00" in shown
    submission = page.text[page.text.index('id="phase-submission"') :].split("</tr>")[0]
    assert "进行中" in submission
    assert f"{d.base}/phases/submission/close" in submission
    assert f"{d.base}/phases/submission/extend" in submission
    assert f"{d.base}/phases/submission/reopen" not in submission
    formal = page.text[page.text.index('id="phase-formal_review"') :].split("</tr>")[0]
    assert "未开始" in formal and f"{d.base}/phases/formal_review/open" in formal
    assert "成果申报、成果推荐" in text(formal)


async def test_closing_submission_early_previews_the_open_drafts_then_confirms(
    anonymous: Client, clock: Clock
) -> None:
    d = await desk(anonymous, clock, 2024, 2, 10, 9, 0, drafts=2)
    form = await anonymous.get(f"{d.base}/phases/submission/close")
    assert form.status_code == 200
    assert re.search(r'id="affected-drafts">2<', form.text), form.text
    version = d.version()

    preview = await d.post(
        "/phases/submission/close/preview", reason="提前截止", version=str(version)
    )
    assert preview.status_code == 409  # registration, which submission depends on, still open
    assert "报名" in text(preview.text)
    assert d.version() == version

    await d.post("/phases/registration/close", reason="报名结束", version=str(version))
    version = d.version()
    preview = await d.post(
        "/phases/submission/close/preview", reason="提前截止", version=str(version)
    )
    assert preview.status_code == 200, preview.text
    shown = text(preview.text)
    assert "确认前预览" in shown
    assert "2024年3月1日 22:00" in shown and "2024年2月10日 09:00" in shown
    assert d.version() == version  # nothing stored by a preview

    done = await d.post("/phases/submission/close", reason="提前截止", version=str(version))
    assert done.status_code == 303, done.text
    assert done.headers["location"].endswith("/phases?done=close")
    assert d.version() == version + 1
    page = await anonymous.get(done.headers["location"])
    row = page.text[page.text.index('id="phase-submission"') :].split("</tr>")[0]
    assert "已结束" in row and "2024年2月10日 09:00" in text(row)


async def test_a_refused_reopen_shows_its_reason_and_stores_nothing(
    anonymous: Client, clock: Clock
) -> None:
    d = await desk(anonymous, clock, 2024, 3, 5, 9, 0)  # formal review open since 2 March
    version = d.version()
    refused = await d.post(
        "/phases/submission/reopen/preview", reason="补报", until="2024-03-10T22:00"
    )
    assert refused.status_code == 409
    assert "形式审查" in text(refused.text) and "不能再重新开放" in text(refused.text)
    assert 'value="2024-03-10T22:00"' in refused.text  # input kept
    assert d.version() == version


async def test_bad_moments_and_a_missing_reason_are_shown_beside_their_fields(
    anonymous: Client, clock: Clock
) -> None:
    d = await desk(anonymous, clock, 2024, 2, 10, 9, 0)
    version = d.version()
    bad = await d.post("/phases/submission/extend/preview", reason="", until="明天")
    assert bad.status_code == 422
    assert "日期和时间" in beside(bad.text, "until")
    empty = await d.post("/phases/submission/extend/preview", reason=" ", until="2024-03-08T22:00")
    assert empty.status_code == 422
    assert beside(empty.text, "reason") == "不能为空"
    earlier = await d.post(
        "/phases/submission/extend/preview", reason="延期", until="2024-02-20T22:00"
    )
    assert "须晚于原截止时间" in beside(earlier.text, "until")
    english = await anonymous.post(
        f"{d.base}/phases/submission/extend/preview",
        data={"csrf_token": d.token, "reason": "延期", "until": "2024-02-20T22:00"},
        headers={"accept-language": "en"},
    )
    assert beside(english.text, "until") == "Must be later than the current deadline."
    assert d.version() == version


async def test_an_open_phase_is_rescheduled_and_formal_review_opened_now(
    anonymous: Client, clock: Clock
) -> None:
    d = await desk(anonymous, clock, 2024, 2, 10, 9, 0)
    moved = await d.post("/phases/recommendation/reschedule", closes_at="2024-02-10T09:30")
    assert moved.status_code == 303, moved.text
    for phase in ("registration", "submission"):
        assert (await d.post(f"/phases/{phase}/close", reason="提前结束")).status_code == 303
    clock.now = beijing(2024, 2, 10, 9, 30)
    opened = await d.post("/phases/formal_review/open", reason="各单位均已报送")
    assert opened.status_code == 303, opened.text
    ledger = anonymous.app.state.platform.tenants["saq"].ledger
    campaign = ledger.get_campaign(uuid.UUID(d.campaign_id))
    assert [str(p) for p in campaign.open_phases(clock.now)] == ["formal_review"]


async def test_rules_are_amended_with_a_reason_each_change_before_and_after(
    anonymous: Client, clock: Clock
) -> None:
    d = await desk(anonymous, clock, 2024, 1, 20, 9, 0)
    page = await anonymous.get(f"{d.base}/rules")
    values = dict(re.findall(r'name="(rules\.[a-z_]+)"[^>]*value="([^"]*)"', page.text))
    values["rules.distinct_topic_types"] = ""
    values["rules.score_aggregation"] = "mean"
    bad = await d.post("/rules/preview", **{**values, "rules.members_max": "0", "reason": "调整"})
    assert bad.status_code == 422
    assert beside(bad.text, "members_max") == "须为正整数"
    version = d.version()
    preview = await d.post(
        "/rules/preview", **{**values, "rules.members_max": "12", "reason": "放宽"}
    )
    assert preview.status_code == 200, preview.text
    changes = text(preview.text.split("确认前预览")[1].split("</table>")[0])
    assert "小组成员人数上限 10 12" in changes
    assert d.version() == version
    done = await d.post("/rules", **{**values, "rules.members_max": "12", "reason": "放宽"})
    assert done.status_code == 303, done.text
    ledger = anonymous.app.state.platform.tenants["saq"].ledger
    assert ledger.get_campaign(uuid.UUID(d.campaign_id)).rules.members_max == 12


async def test_only_the_secretariat_reaches_the_pages(anonymous: Client, clock: Clock) -> None:
    d = await desk(anonymous, clock, 2024, 2, 10, 9, 0)
    anonymous.cookies.clear()
    with cheap_passwords(anonymous, "saq"):
        await signed_in(anonymous, Role.RECOMMENDING_UNIT, "huangpu")
    for path in ("/phases", "/phases/submission/close", "/rules"):
        page = await anonymous.get(f"{d.base}{path}")
        assert page.status_code in (403, 404), path
    other = await anonymous.get(f"/saq/secretariat/campaigns/{uuid.uuid4()}/phases")
    assert other.status_code in (403, 404)
    assert TOKEN.search((await anonymous.get("/saq/")).text)
