"""The campaign API over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.support import Clock, beijing, campaign_body

pytestmark = pytest.mark.tenants("saq")

SAQ = "/api/v1/tenants/saq/campaigns"
Client = AsyncTestClient[Any]


async def ledger_head(client: Client, tenant: str = "saq") -> int:
    return client.app.state.platform.tenants[tenant].ledger.recorder.max_notification_id() or 0


async def test_opening_a_campaign_answers_201_with_its_version_and_lists_it(client: Client) -> None:
    response = await client.post(SAQ, json=campaign_body())

    assert response.status_code == 201
    assert response.headers["etag"] == '"1"'
    campaign = response.json()
    assert response.headers["location"] == f"{SAQ}/{campaign['id']}"
    assert campaign["title"] == "2020年上海市“质量信得过班组”建设经验申报/推荐"
    assert campaign["programme_name_zh"] == "质量信得过班组建设活动"
    assert campaign["rules"]["recommendations_per_applicant_max"] == 2
    submission = campaign["timeline"][0]
    assert submission == {
        "phase": "submission",
        "name_zh": "成果申报",
        "opens_at": "2020-07-01T00:00:00+08:00",
        "closes_at": "2020-07-25T22:00:00+08:00",
    }
    listed = (await client.get(SAQ)).json()  # read-your-writes: no waiting in the test
    assert [c["id"] for c in listed] == [campaign["id"]]
    assert listed[0]["status"] == "open"


async def test_naive_times_are_read_as_beijing_time(client: Client) -> None:
    body = campaign_body(
        timeline={
            "submission": {"opens_at": "2020-07-01T00:00:00", "closes_at": "2020-07-25T22:00:00"}
        }
    )
    campaign = (await client.post(SAQ, json=body)).json()
    assert campaign["timeline"][0]["closes_at"] == "2020-07-25T22:00:00+08:00"


@pytest.mark.tenants("saq", "sdaq")
async def test_a_campaign_of_saq_is_invisible_to_sdaq(
    client: Client, opened: dict[str, Any]
) -> None:
    assert (await client.get("/api/v1/tenants/sdaq/campaigns")).status_code == 404
    response = await client.get(f"/api/v1/tenants/sdaq/campaigns/{opened['id']}")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    other = await client.post(
        f"/api/v1/tenants/sdaq/campaigns/{opened['id']}/archive",
        json={"reason": "x"},
    )
    assert other.status_code == 404


async def test_a_repeated_idempotency_key_gives_the_same_campaign(client: Client) -> None:
    headers = {"Idempotency-Key": "open-team-2020"}
    first = await client.post(SAQ, json=campaign_body(), headers=headers)
    head = await ledger_head(client)
    again = await client.post(SAQ, json=campaign_body(), headers=headers)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert await ledger_head(client) == head  # nothing stored the second time
    assert len((await client.get(SAQ)).json()) == 1


async def test_a_second_campaign_for_the_same_programme_and_year_is_a_conflict(
    client: Client, opened: dict[str, Any]
) -> None:
    response = await client.post(
        SAQ, json=campaign_body(title="另一个"), headers={"Idempotency-Key": "other"}
    )
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "year"


async def test_a_stale_if_match_gives_409_and_changes_nothing(
    client: Client, opened: dict[str, Any], clock: Clock
) -> None:
    clock.now = beijing(2020, 7, 20, 9, 0)
    url = f"{SAQ}/{opened['id']}/phases/submission/extend-deadline"
    body = {"until": "2020-07-31T22:00:00+08:00", "reason": "应推荐单位要求延期一周"}

    ok = await client.post(url, json=body, headers={"If-Match": '"1"'})
    stale = await client.post(url, json=body, headers={"If-Match": '"1"'})

    assert ok.status_code == 200
    assert ok.headers["etag"] == '"2"'
    assert ok.json()["timeline"][0]["closes_at"] == "2020-07-31T22:00:00+08:00"
    assert stale.status_code == 409
    assert stale.json()["errors"][0] == {
        "field": "If-Match",
        "rule": "stale_version",
        "message": stale.json()["errors"][0]["message"],
    }
    shown = await client.get(f"{SAQ}/{opened['id']}")
    assert shown.headers["etag"] == '"2"'


async def test_a_malformed_if_match_is_a_bad_request(
    client: Client, opened: dict[str, Any]
) -> None:
    response = await client.post(
        f"{SAQ}/{opened['id']}/archive",
        json={"reason": "测试"},
        headers={"If-Match": "version-one"},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "If-Match"


@pytest.mark.parametrize(
    ("moment", "status"),
    [((2020, 12, 31, 21, 59, 59), 200), ((2020, 12, 31, 22, 0, 0), 409)],
    ids=["21:59:59 accepted", "22:00:00 refused"],
)
async def test_publishing_at_the_closing_minute(
    client: Client, opened: dict[str, Any], clock: Clock, moment: tuple[int, ...], status: int
) -> None:
    clock.now = beijing(*moment)
    response = await client.post(f"{SAQ}/{opened['id']}/publish-results")
    assert response.status_code == status
    if status == 409:
        problem = response.json()
        assert problem["errors"][0]["rule"] == "window_closed"
        assert "2020-12-31 22:00" in problem["detail"]
        assert (await client.get(f"{SAQ}/{opened['id']}")).json()["status"] == "open"
    else:
        assert response.json()["status"] == "published"


async def test_open_phases_at_the_exact_minute(client: Client, opened: dict[str, Any]) -> None:
    url = f"{SAQ}/{opened['id']}/open-phases"
    before = (await client.get(url, params={"at": "2020-07-25T21:59:59+08:00"})).json()
    at_close = (await client.get(url, params={"at": "2020-07-25T22:00:00+08:00"})).json()
    assert [p["phase"] for p in before["open_phases"]] == ["submission"]
    assert at_close["open_phases"] == []


async def test_reschedule_amend_publish_and_archive(
    client: Client, opened: dict[str, Any], clock: Clock
) -> None:
    base = f"{SAQ}/{opened['id']}"
    clock.now = beijing(2020, 6, 1, 10, 0)
    rescheduled = await client.post(
        f"{base}/phases/publication/reschedule",
        json={"opens_at": "2020-12-10T00:00:00+08:00", "closes_at": "2021-01-01T00:00:00+08:00"},
    )
    amended = await client.post(
        f"{base}/amend-rules",
        json={"rules": {"team_report_max_chars": 6000}, "reason": "依据新准则"},
    )
    clock.now = beijing(2020, 12, 15, 10, 0)
    published = await client.post(f"{base}/publish-results")
    archived = await client.post(f"{base}/archive", json={"reason": "年度结束"})

    assert [r.status_code for r in (rescheduled, amended, published, archived)] == [200] * 4
    assert amended.json()["rules"]["team_report_max_chars"] == 6000
    final = archived.json()
    assert (final["status"], final["version"]) == ("archived", 5)
    assert final["published_at"] == "2020-12-15T10:00:00+08:00"
    listed = (await client.get(SAQ, params={"programme": "team", "year": 2020})).json()
    assert (listed[0]["status"], listed[0]["version"]) == ("archived", 5)
    assert listed[0]["timeline"][1]["opens_at"] == "2020-12-10T00:00:00+08:00"
    after = await client.post(
        f"{base}/amend-rules",
        json={"rules": {"members_max": 8}, "reason": "x"},
    )
    assert after.status_code == 409
    assert after.json()["errors"][0]["rule"] == "archived"


async def test_without_a_session_every_campaign_route_is_refused(anonymous: Client) -> None:
    response = await anonymous.post(SAQ, json=campaign_body())
    assert response.status_code == 401
    assert response.json()["errors"][0]["field"] == "session"
    assert (await anonymous.get(SAQ)).status_code == 401


async def test_unknown_tenant_and_unknown_campaign_are_404(client: Client) -> None:
    assert (await client.get("/api/v1/tenants/xyz/campaigns")).status_code == 404
    missing = await client.get(f"{SAQ}/2b1c7d4e-0000-4000-8000-000000000000")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["field"] == "campaign_id"
