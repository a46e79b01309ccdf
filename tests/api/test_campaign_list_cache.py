"""`GET …/campaigns` answers an unchanged list without reading it again (ADR 0031): the campaign
list's stored position comes with the session's statement (PostgreSQL), and a list read at that
same position is the same list. Any change to a campaign moves the position, so the next request
reads it; sign-out and expiry still stop the very next request."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from aggregates.actor import Role
from api.app import create_app
from api.campaigns.schemas import CampaignListItem
from api.platform import dependencies
from projections.campaign_list import LISTED, listed
from tenants.settings import Settings
from tests.api.conftest import make_account, sign_in
from tests.support import APP_POLL, CHEAP_PASSWORDS, Clock, beijing, campaign_body

pytestmark = pytest.mark.tenants("saq")

Client = AsyncTestClient[Any]
SAQ = "/api/v1/tenants/saq"
CAMPAIGNS = f"{SAQ}/campaigns"


def reads(client: Client) -> int:
    """How many times the app read the campaign list from its store with a position to cache."""
    return listed(client.app.state.views["saq"].db(LISTED)).reads


async def opened_campaign(client: Client, headers: dict[str, str], **changes: Any) -> str:
    response = await client.post(CAMPAIGNS, json=campaign_body(**changes), headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_an_unchanged_list_is_answered_without_reading_it_again(
    anonymous: Client, backend: str
) -> None:
    headers = await sign_in(anonymous, "saq", Role.SECRETARIAT)
    await opened_campaign(anonymous, headers)
    before = reads(anonymous)
    answers = [await anonymous.get(CAMPAIGNS, headers=headers) for _ in range(4)]
    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1  # the same bytes, read or kept
    assert len(answers[0].json()) == 1
    # PostgreSQL: read once, then kept; SQLite (a file per view, no position with the session):
    # read every time, never kept.
    assert reads(anonymous) - before == (1 if backend == "postgres" else 0)
    filtered = await anonymous.get(CAMPAIGNS, params={"year": 2019}, headers=headers)
    assert filtered.status_code == 200 and filtered.json() == []  # each filter its own list


async def test_a_kept_lists_items_are_made_once(
    anonymous: Client, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = await sign_in(anonymous, "saq", Role.SECRETARIAT)
    await opened_campaign(anonymous, headers)
    made: list[str] = []
    make = CampaignListItem.of.__func__  # type: ignore[attr-defined]

    def counting(cls: type[CampaignListItem], row: Any, zone: Any) -> CampaignListItem:
        made.append(row.campaign_id)
        return make(cls, row, zone)  # type: ignore[no-any-return]

    monkeypatch.setattr(CampaignListItem, "of", classmethod(counting))
    answers = [await anonymous.get(CAMPAIGNS, headers=headers) for _ in range(4)]
    assert len({a.content for a in answers}) == 1 and len(answers[0].json()) == 1
    # PostgreSQL: made from the rows read, then once from the kept rows, then kept; SQLite (no
    # kept list): made for every request.
    assert len(made) == (2 if backend == "postgres" else 4)

    await opened_campaign(anonymous, headers, year=2021)  # the list moves on: made anew
    made.clear()
    listed_now = [await anonymous.get(CAMPAIGNS, headers=headers) for _ in range(3)]
    assert [c["year"] for c in listed_now[-1].json()] == [2021, 2020]
    assert len(made) == (2 + 2 if backend == "postgres" else 2 * 3)


async def test_a_change_to_a_campaign_is_listed_by_the_next_request(
    anonymous: Client, clock: Clock
) -> None:
    clock.now = beijing(2020, 6, 1, 10, 0)  # before the campaign's first phase: rules may change
    headers = await sign_in(anonymous, "saq", Role.SECRETARIAT)
    campaign = await opened_campaign(anonymous, headers)
    for _ in range(2):
        listed_before = (await anonymous.get(CAMPAIGNS, headers=headers)).json()
    assert listed_before[0]["version"] == 1
    amended = await anonymous.post(
        f"{CAMPAIGNS}/{campaign}/amend-rules",
        json={"rules": {"team_report_max_chars": 6000}, "reason": "依据新准则"},
        headers=headers,
    )
    assert amended.status_code == 200, amended.text
    listed_after = (await anonymous.get(CAMPAIGNS, headers=headers)).json()
    assert [c["version"] for c in listed_after] == [2]
    other = await opened_campaign(
        anonymous, headers, programme="qc_group", title="2020年质量管理小组活动"
    )
    assert {c["id"] for c in (await anonymous.get(CAMPAIGNS, headers=headers)).json()} == {
        campaign,
        other,
    }


async def test_a_campaign_opened_through_another_app_instance_is_listed_here_at_once(
    anonymous: Client, settings: Settings, clock: Clock
) -> None:
    headers = await sign_in(anonymous, "saq", Role.SECRETARIAT)
    first = await opened_campaign(anonymous, headers)
    for _ in range(2):  # kept here
        assert len((await anonymous.get(CAMPAIGNS, headers=headers)).json()) == 1
    login, password = make_account(anonymous, "saq", Role.SECRETARIAT)
    second = create_app(
        settings, clock=clock, poll_interval=APP_POLL, only=("saq",), passwords=CHEAP_PASSWORDS
    )
    async with AsyncTestClient(second) as elsewhere:
        signed_in = await elsewhere.post(
            f"{SAQ}/session", json={"login": login, "password": password}
        )
        assert signed_in.status_code == 201, signed_in.text
        elsewhere.cookies.clear()
        token = {"Authorization": f"Bearer {signed_in.json()['token']}"}
        other = await opened_campaign(
            elsewhere, token, programme="qc_group", title="2020年质量管理小组活动"
        )
    listed_here = (await anonymous.get(CAMPAIGNS, headers=headers)).json()
    assert {c["id"] for c in listed_here} == {first, other}


async def test_sign_out_and_expiry_stop_the_next_request_whatever_is_kept(
    anonymous: Client, clock: Clock
) -> None:
    headers = await sign_in(anonymous, "saq", Role.SECRETARIAT)
    await opened_campaign(anonymous, headers)
    for _ in range(2):
        assert (await anonymous.get(CAMPAIGNS, headers=headers)).status_code == 200
    assert (await anonymous.delete(f"{SAQ}/session", headers=headers)).status_code == 204
    refused = await anonymous.get(CAMPAIGNS, headers=headers)
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["field"] == "session"

    other = await sign_in(anonymous, "saq", Role.SECRETARIAT)
    for _ in range(2):
        assert (await anonymous.get(CAMPAIGNS, headers=other)).status_code == 200
    clock.now = clock.now + timedelta(days=400)  # past any session's lifetime
    assert (await anonymous.get(CAMPAIGNS, headers=other)).status_code == 401


async def test_the_session_reports_the_lists_position_on_postgresql_only(
    anonymous: Client, backend: str
) -> None:
    headers = await sign_in(anonymous, "saq", Role.SECRETARIAT)
    await opened_campaign(anonymous, headers)
    store = anonymous.app.state.auth["saq"]
    signer = anonymous.app.state.signer
    opened = signer.open_session_token(headers["Authorization"].removeprefix("Bearer "))
    assert opened is not None
    session = store.session(opened[1])
    assert session is not None
    if backend == "postgres":
        assert session.view_positions[LISTED] >= 1
    else:
        assert session.view_positions == {}


async def test_the_apps_own_dependencies_are_called_as_they_are(
    anonymous: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tenant's runtime and views (and the platform they come from) are made without
    Litestar's conversion of their values; an unknown tenant is still refused by them."""
    headers = await sign_in(anonymous, "saq", Role.SECRETARIAT)
    await opened_campaign(anonymous, headers)
    litestar_way: list[str] = []
    resolve = dependencies.resolve_dependency

    async def counted(dependency: Any, *args: Any) -> None:
        litestar_way.append(dependency.key)
        await resolve(dependency, *args)

    monkeypatch.setattr(dependencies, "resolve_dependency", counted)
    listed_now = await anonymous.get(CAMPAIGNS, headers=headers)
    assert listed_now.status_code == 200 and len(listed_now.json()) == 1
    made = await anonymous.post(CAMPAIGNS, json=campaign_body(year=2019), headers=headers)
    assert made.status_code == 201, made.text  # its `actor` too
    assert litestar_way == []
    unknown = await anonymous.get("/api/v1/tenants/nowhere/campaigns", headers=headers)
    assert unknown.status_code == 404
