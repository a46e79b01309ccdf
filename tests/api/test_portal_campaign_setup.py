"""Opening a campaign in the browser's place (the test client), on SQLite and PostgreSQL: from last
year's campaign (timeline shifted a year) or the seeds' defaults; a bad window refused beside its
field with the input kept and nothing stored; preview; open by the ledger's command; a rehearsal
opened beside the real year and deleted with a reason; only the secretariat."""

from __future__ import annotations

import html
from html.parser import HTMLParser
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from aggregates.actor import Role
from tests.api.conftest import sign_in
from tests.api.published_world import campaign_body, tenant_config
from tests.api.test_portal_forms import EN, signed_in
from tests.support import Clock, beijing

pytestmark = pytest.mark.tenants("saq")

Client = AsyncTestClient[Any]
API = "/api/v1/tenants/saq/campaigns"
NEW = "/saq/secretariat/campaigns/new"


class FormFields(HTMLParser):
    """What a browser would post from the page's first form with method post (the header's
    sign-out form aside)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._in_form = False
        self._done = False
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        posts = a.get("method") == "post" and not a.get("action", "").endswith("/sign-out")
        if tag == "form" and posts and not self._done:
            self._in_form = True
        if not self._in_form:
            return
        name = a.get("name", "")
        if tag == "input" and name and a.get("type") not in ("submit",):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields[name] = a.get("value", "on")
            else:
                self.fields[name] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = name
            self.fields[name] = ""
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.fields[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._in_form:
            self._in_form, self._done = False, True
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data


def form_of(page: str) -> dict[str, str]:
    parser = FormFields()
    parser.feed(page)
    return parser.fields


async def head(client: Client) -> int:
    return client.app.state.platform.tenants["saq"].ledger.recorder.max_notification_id() or 0


async def last_year(client: Client, clock: Clock) -> dict[str, Any]:
    """The secretariat's 2024 QC campaign, opened through the ledger's API."""
    clock.now = beijing(2024, 9, 1, 9, 0)
    headers = await sign_in(client, "saq", Role.SECRETARIAT)
    body = campaign_body(tenant_config(client, "saq"), 2024)
    response = await client.post(API, json=body, headers=headers)
    assert response.status_code == 201, response.text
    client.headers.pop("Authorization", None)
    return dict(response.json())


async def test_next_years_campaign_from_last_years_refused_then_previewed_and_opened(
    client: Client, clock: Clock
) -> None:
    opened = await last_year(client, clock)
    csrf = await signed_in(client, Role.SECRETARIAT)

    start = await client.get(NEW)
    assert start.status_code == 200 and "质量管理小组活动" in start.text
    page = await client.get(NEW, params={"programme": "qc_group", "year": "2025"})
    assert page.status_code == 200
    form = form_of(page.text)
    assert form["title"] == "2025年上海市质协质量管理小组活动成果交流" or "2025" in form["title"]
    assert form["timeline.submission.on"] == "on"
    assert form["timeline.submission.opens_at"] == "2025-01-01T00:00"
    assert form["rules.results_per_applicant_min"] == "1"
    assert form["rules.results_per_applicant_max"] == ""  # no limit, as last year
    assert "timeline.presentation.on" not in form  # not scheduled last year
    assert form["period_start"] == "2024-01-01"

    # A window closing before it opens: refused beside its field, input kept, nothing stored.
    before = await head(client)
    bad = {
        **form,
        "timeline.formal_review.closes_at": "2025-03-01T00:00",
        "theme": "新主题",
        "action": "preview",
        "csrf_token": csrf,
    }
    refused = await client.post(NEW, data=bad)
    assert refused.status_code == 422
    assert 'id="e-timeline-formal_review-closes_at"' in refused.text
    assert "截止时间须晚于开始时间" in refused.text
    assert form_of(refused.text)["theme"] == "新主题"
    assert await head(client) == before

    fixed = {**bad, "timeline.formal_review.closes_at": "2025-03-20T17:00"}
    preview = await client.post(NEW, data=fixed)
    assert preview.status_code == 200
    assert "预览" in preview.text and '<figure class="timeline">' in preview.text
    assert "2025年3月20日 17:00" in html.unescape(preview.text)
    assert await head(client) == before
    opened_page = await client.post(
        NEW, data={**form_of(preview.text), "action": "open"}, follow_redirects=False
    )
    assert opened_page.status_code == 303, opened_page.text
    setup = await client.get(opened_page.headers["location"])
    assert setup.status_code == 200 and "活动已开设" in setup.text

    listed = (await client.get(API)).json()
    new = next(c for c in listed if c["year"] == 2025)
    shown = (await client.get(f"{API}/{new['id']}")).json()
    assert shown["rules"] == opened["rules"]
    windows = {w["phase"]: w for w in shown["timeline"]}
    assert windows["formal_review"]["closes_at"] == "2025-03-20T17:00:00+08:00"
    assert windows["submission"]["closes_at"] == "2025-03-01T22:00:00+08:00"  # shifted a year
    assert shown["rehearsal"] is False

    # The year's slot is taken now: refused beside the year.
    again = await client.post(NEW, data={**fixed, "action": "open"})
    assert again.status_code == 409
    assert 'id="e-year"' in again.text


async def test_a_rehearsal_is_opened_beside_the_real_year_and_deleted_with_a_reason(
    client: Client, clock: Clock
) -> None:
    await last_year(client, clock)
    csrf = await signed_in(client, Role.SECRETARIAT)
    page = await client.get(NEW, params={"programme": "qc_group", "year": "2024", "start": "seeds"})
    form = form_of(page.text)
    assert form["rules.results_per_applicant_min"] == "2"  # the seeds' default
    assert form["timeline.submission.opens_at"].startswith("2024-")
    posted = {**form, "rehearsal": "on", "action": "open", "csrf_token": csrf}
    done = await client.post(NEW, data=posted, follow_redirects=False)
    assert done.status_code == 303, done.text
    setup = await client.get(done.headers["location"])
    assert "演练" in setup.text and "删除演练活动" in setup.text
    campaign_id = done.headers["location"].split("/")[-2]
    notice = await client.get(f"/saq/campaigns/{campaign_id}")
    assert "这是演练活动" in notice.text  # its notice says so; the public home does not list it
    assert f"/saq/campaigns/{campaign_id}" not in (await client.get("/saq/")).text

    delete = f"/saq/secretariat/campaigns/{campaign_id}/delete-rehearsal"
    refused = await client.post(delete, data={"reason": " ", "csrf_token": csrf})
    assert refused.status_code == 422 and 'id="e-reason"' in refused.text
    english = await client.post(delete, data={"reason": "", "csrf_token": csrf}, headers=EN)
    assert "must not be empty" in english.text.lower() or "required" in english.text.lower()
    deleted = await client.post(
        delete, data={"reason": "培训结束", "csrf_token": csrf}, follow_redirects=False
    )
    assert deleted.status_code == 303
    after = await client.get(deleted.headers["location"])
    assert "已删除" in after.text
    assert (await client.get(f"/saq/secretariat/campaigns/{campaign_id}/setup")).status_code == 404
    assert [c["year"] for c in (await client.get(API)).json()] == [2024]


async def test_only_the_secretariat_opens_campaigns(client: Client, clock: Clock) -> None:
    await last_year(client, clock)
    csrf = await signed_in(client, Role.RECOMMENDING_UNIT, "pudong")
    assert (await client.get(NEW)).status_code in (403, 404)
    posted = await client.post(NEW, data={"programme": "qc_group", "csrf_token": csrf})
    assert posted.status_code in (403, 404)
