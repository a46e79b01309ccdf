"""The live presentation contest (发表赛) over the test client: the secretariat calls the first
presenter (a bad time refused beside its field), a judge files a sheet on the phone page (a score
over its maximum refused beside it, nothing stored), another judge's sheet never shows on a
judge's page, a paper sheet entered by the secretariat is marked so, release waits for every
judge, and the big screen shows the totals with the highest and lowest dropped and the round's
trimmed mean; then the next presenter. Other roles get no contest page."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from uuid import UUID

import msgspec
import pytest

from aggregates.actor import Role
from tenants.settings import Settings
from tests.api.contest_world import CONTEST, Contest, criteria_for, prepare_contest
from tests.api.review_world import Client, World, build
from tests.api.test_portal_review import beside, page_session
from tests.support import Clock

pytestmark = pytest.mark.tenants("saq")
JUDGES = ["SQA-QC-2023-0005", "SQA-QC-2023-0006", "SQA-QC-2023-0007", "SQA-QC-2023-0008"]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, session_hours=24 * 365 * 4)


async def contest_world(client: Client, clock: Clock) -> tuple[World, Contest]:
    w = await build(client, ("huangpu",))
    ledger = client.app.state.platform.tenants["saq"].ledger
    contest = prepare_contest(
        ledger,
        clock,
        UUID(w.campaign_id),
        [UUID(e.submission_id) for e in w.entries],
        "SQA-QC-2023-0009",
        JUDGES,
    )
    return w, contest


async def first_called(client: Client, w: World, contest: Contest, token: str) -> str:
    """The running order on the control page; a bad time refused beside its field, nothing
    stored; the first presenter called with 12 minutes; no release before every judge filed."""
    ledger = client.app.state.platform.tenants["saq"].ledger
    base = f"/saq/contest/{w.campaign_id}/{CONTEST}"
    control = await client.get(base)
    assert control.status_code == 200
    assert all(e.serial in control.text for e in w.entries)
    assert "尚无人上台" in control.text

    bad = await client.post(f"{base}/call", data={"csrf_token": token, "minutes": "0"})
    assert bad.status_code == 422
    assert beside(bad.text, "minutes") == "发表时间应在 1 至 60 分钟之间"
    assert contest.round(ledger).on_stage() is None
    called = await client.post(
        f"{base}/call", data={"csrf_token": token, "minutes": "12"}, follow_redirects=False
    )
    assert called.status_code == 303
    first = contest.order[0]
    stage = contest.round(ledger).on_stage()
    assert stage is not None and stage["submission_id"] == first and stage["seconds"] == 720
    control = await client.get(base)
    assert 'data-remaining="720"' in control.text and "12:00" in control.text

    early = await client.post(f"{base}/release", data={"csrf_token": token, "submission_id": first})
    assert early.status_code == 409
    assert "尚有 4 位评委未提交评分表" in early.text

    return first


async def judge_files(
    client: Client, contest: Contest, judge: str, totals: dict[str, int], *, refused_first: bool
) -> None:
    """The judge's phone page: the presentation on stage and only their own sheet; a score over
    its maximum refused beside it (nothing stored), then the sheet filed."""
    ledger = client.app.state.platform.tenants["saq"].ledger
    base = f"/saq/contest/{contest.campaign_id}/{CONTEST}"
    first = contest.order[0]
    await page_session(client, Role.REVIEWER, judge)
    page = await client.get(f"{base}/judge")
    assert page.status_code == 200
    entrant = contest.round(ledger).entrants[first]
    assert entrant["title"] in page.text and "（满分 40）" in page.text
    for other, total in totals.items():  # never another judge's total, filed before
        assert other == judge or f"合计 {total}" not in page.text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    typed = {f"c{k}": v for k, v in enumerate(criteria_for(totals[judge]).values())}
    form = {"csrf_token": found.group(1), "submission_id": first, **typed}
    if refused_first:
        over = await client.post(f"{base}/judge", data={**form, "c0": "45"})
        assert over.status_code == 422
        assert beside(over.text, "c0") == "应在 0 至 40 分之间"
        assert 'value="45"' in over.text
        assert f"{first}/{judge}" not in contest.round(ledger).current
    filed = await client.post(f"{base}/judge", data=form, follow_redirects=False)
    assert filed.status_code == 303, filed.text
    mine = await client.get(f"{base}/judge")
    assert f"已评：合计 {totals[judge]}.00 分" in mine.text
    assert "已评 " not in mine.text  # no count of the others
    assert (await client.get(base)).status_code in (403, 404)
    assert (await client.get(f"{base}/screen/live")).status_code in (403, 404)


def cells(text: str) -> list[str]:
    return re.findall(r'<span class="total">([^<]+)</span>', text)


async def test_a_presentation_is_called_scored_released_and_the_next_one_called(
    client: Client, clock: Clock
) -> None:
    w, contest = await contest_world(client, clock)
    ledger = client.app.state.platform.tenants["saq"].ledger
    base = f"/saq/contest/{w.campaign_id}/{CONTEST}"
    token = await page_session(client)
    index = await client.get("/saq/contest/")
    assert f'href="{base}"' in index.text and f'href="{base}/screen"' in index.text

    first = await first_called(client, w, contest, token)

    # Three judges on their phones; the fourth's paper sheet entered by the secretariat.
    totals = {JUDGES[0]: 91, JUDGES[1]: 84, JUDGES[2]: 77}
    for i, judge in enumerate(JUDGES[:3]):
        await judge_files(client, contest, judge, totals, refused_first=i == 0)

    outsider = "SQA-QC-2023-0010"
    await page_session(client, Role.REVIEWER, outsider)
    assert (await client.get(f"{base}/judge")).status_code == 404

    token = await page_session(client)
    paper = await client.post(
        f"{base}/paper",
        data={
            "csrf_token": token,
            "reviewer": JUDGES[3],
            **{f"c{k}": v for k, v in enumerate(criteria_for(70).values())},
        },
        follow_redirects=False,
    )
    assert paper.status_code == 303, paper.text
    sheet_id = contest.round(ledger).current[f"{first}/{JUDGES[3]}"]
    assert contest.round(ledger).sheets[sheet_id]["entered_by"] == "secretariat"

    live = await client.get(f"{base}/screen/live")
    assert live.text.count("已评") >= 4 and "纸质评分表，秘书处代录" in live.text
    assert cells(live.text) == []  # not released: no judge's total on the screen

    released = await client.post(
        f"{base}/release", data={"csrf_token": token, "submission_id": first}
    )
    assert released.status_code == 200  # followed to the control page
    live = await client.get(f"{base}/screen/live")
    assert sorted(cells(live.text)) == ["70.00", "77.00", "84.00", "91.00"]
    assert "最高分，去掉" in live.text and "最低分，去掉" in live.text
    expected = ((Decimal(84) + Decimal(77)) / 2).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert f"<strong data-score>{expected}</strong>" in live.text
    assert contest.round(ledger).presentation_score(first).score == expected
    screen = await client.get(f"{base}/screen")
    assert 'hx-trigger="every 1s"' in screen.text and f'hx-get="{base}/screen/live"' in screen.text

    nxt = await client.post(f"{base}/call", data={"csrf_token": token, "minutes": "12"})
    assert nxt.status_code == 200
    stage = contest.round(ledger).on_stage()
    assert stage is not None and stage["submission_id"] == contest.order[1]
    live = await client.get(f"{base}/screen/live")
    assert str(expected) in live.text  # the released score stays in the running order
    assert cells(live.text) == []  # the new presentation's totals are not released

    # A judge's page polls the stage: unchanged, it goes on; once the next one is on stage,
    # the link to the new sheet comes with htmx's "stop polling" (286), so it stays put.
    await page_session(client, Role.REVIEWER, JUDGES[0])
    same = await client.get(f"{base}/judge/stage", params={"shown": str(stage["submission_id"])})
    assert same.status_code == 200 and "已换下一位上台" not in same.text
    moved = await client.get(f"{base}/judge/stage", params={"shown": str(first)})
    assert moved.status_code == 286 and "已换下一位上台，点此打开评分表" in moved.text


async def test_other_roles_get_no_contest_page(client: Client, clock: Clock) -> None:
    w, _ = await contest_world(client, clock)
    base = f"/saq/contest/{w.campaign_id}/{CONTEST}"
    await page_session(client, Role.RECOMMENDING_UNIT, "huangpu")
    for url in ("/saq/contest/", base, f"{base}/screen", f"{base}/judge"):
        assert (await client.get(url)).status_code in (403, 404), url
    await page_session(client)
    assert (await client.get(f"/saq/contest/{w.campaign_id}/initial")).status_code == 404
