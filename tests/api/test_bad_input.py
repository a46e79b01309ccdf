"""Every bad input to the campaign API: a problem naming the field and the rule; nothing stored.

Every request here is refused and changes nothing, so the tests of a module share one app,
signed in as saq's secretariat, and one opened campaign, built once per module on each backend
(`module_anonymous`); a case whose request is accepted must not be added here."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_asyncio
from litestar.testing import AsyncTestClient

from aggregates.actor import Role
from tests.api.conftest import sign_in
from tests.support import Clock, beijing, campaign_body

pytestmark = [pytest.mark.tenants("saq"), pytest.mark.asyncio(loop_scope="module")]

SAQ = "/api/v1/tenants/saq/campaigns"
Client = AsyncTestClient[Any]


@pytest.fixture(scope="module")
def module_clock() -> Clock:
    """The module's business time: the submission of `opened` (the 2020 campaign) is open."""
    return Clock(beijing(2020, 7, 10, 9, 0))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(module_anonymous: Client) -> Client:
    """The module's app, signed in as a secretariat user of saq."""
    module_anonymous.headers.update(await sign_in(module_anonymous, "saq", Role.SECRETARIAT))
    return module_anonymous


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def opened(client: Client) -> dict[str, Any]:
    """saq has opened its 2020 team campaign."""
    response = await client.post(SAQ, json=campaign_body())
    assert response.status_code == 201, response.text
    return dict(response.json())


WINDOW = {"opens_at": "2020-07-01T00:00:00+08:00", "closes_at": "2020-07-25T22:00:00+08:00"}
BACKWARDS = {"opens_at": "2020-07-26T00:00:00+08:00", "closes_at": "2020-07-25T22:00:00+08:00"}


def without(field: str) -> dict[str, Any]:
    body = campaign_body()
    del body[field]
    return body


OPEN_CASES = [
    ("missing title", without("title"), "title", "required"),
    ("missing contact", without("contact"), "contact", "required"),
    ("blank title", campaign_body(title="   "), "title", "required"),
    ("title too long", campaign_body(title="长" * 201), "title", "constraint"),
    ("year as text", campaign_body(year="二〇二〇"), "year", "type"),
    ("year out of range", campaign_body(year=1999), "year", "constraint"),
    ("unknown programme", campaign_body(programme="football"), "programme", "invalid"),
    ("unknown field", campaign_body(colour="red"), "colour", "unknown_field"),
    ("unknown phase", campaign_body(timeline={"lunch": WINDOW}), "timeline", "invalid"),
    (
        "window backwards",
        campaign_body(timeline={"submission": BACKWARDS}),
        "timeline.submission.closes_at",
        "window_order",
    ),
    ("empty timeline", campaign_body(timeline={}), "timeline", "required"),
    ("bad date", campaign_body(period_start="2019-13-01"), "period_start", "invalid"),
    ("period backwards", campaign_body(period_end="2019-01-01"), "period_end", "period_order"),
    (
        "bad email",
        campaign_body(contact={"person": "杨瑾", "phone": "021", "email": "yangjin"}),
        "contact.email",
        "email_format",
    ),
    (
        "bad postcode",
        campaign_body(contact={"person": "杨瑾", "phone": "021", "postcode": "2000"}),
        "contact.postcode",
        "postcode_format",
    ),
    (
        "blank person",
        campaign_body(contact={"person": " ", "phone": "021"}),
        "contact.person",
        "required",
    ),
    (
        "rule not positive",
        campaign_body(rules={"members_max": 0}),
        "rules.members_max",
        "constraint",
    ),
    (
        "rules incoherent",
        campaign_body(rules={"intro_min_chars": 2000, "intro_max_chars": 1000}),
        "rules.intro_max_chars",
        "min_le_max",
    ),
    ("unknown rule", campaign_body(rules={"fees": 100}), "rules.fees", "unknown_field"),
    (
        "blank co-organiser",
        campaign_body(co_organisers=["上海市总工会", ""]),
        "co_organisers[1]",
        "required",
    ),
    ("not an object", [1, 2, 3], "body", "type"),
]


@pytest.mark.parametrize(
    ("body", "field", "rule"), [c[1:] for c in OPEN_CASES], ids=[c[0] for c in OPEN_CASES]
)
async def test_opening_with_bad_input_names_the_field_and_stores_nothing(
    client: Client, body: Any, field: str, rule: str
) -> None:
    ledger = client.app.state.platform.tenants["saq"].ledger
    head = ledger.recorder.max_notification_id()
    listed = (await client.get(SAQ)).json()

    response = await client.post(SAQ, json=body)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 422
    assert (field, rule) in [(e["field"], e["rule"]) for e in problem["errors"]], problem
    assert "Traceback" not in response.text
    assert ledger.recorder.max_notification_id() == head
    assert (await client.get(SAQ)).json() == listed


async def test_malformed_json_is_a_problem(client: Client) -> None:
    response = await client.post(
        SAQ, content=b'{"title": ', headers={"content-type": "application/json"}
    )
    assert response.status_code in (400, 422)
    assert response.headers["content-type"].startswith("application/problem+json")


COMMAND_CASES = [
    (
        "extend: reason blank",
        "phases/submission/extend-deadline",
        {"until": "2020-07-31T22:00:00+08:00", "reason": " "},
        422,
        "reason",
        "required",
    ),
    (
        "extend: not later",
        "phases/submission/extend-deadline",
        {"until": "2020-07-20T22:00:00+08:00", "reason": "延期"},
        422,
        "until",
        "later_than_deadline",
    ),
    (
        "extend: unscheduled phase",
        "phases/presentation/extend-deadline",
        {"until": "2020-07-31T22:00:00+08:00", "reason": "延期"},
        422,
        "phase",
        "not_scheduled",
    ),
    (
        "extend: unknown phase",
        "phases/lunch/extend-deadline",
        {"until": "2020-07-31T22:00:00+08:00", "reason": "延期"},
        422,
        "phase",
        "invalid",
    ),
    (
        "extend: missing until",
        "phases/submission/extend-deadline",
        {"reason": "延期"},
        422,
        "until",
        "required",
    ),
    (
        "reschedule: the start of an opened phase",
        "phases/submission/reschedule",
        {"opens_at": "2020-07-15T00:00:00+08:00", "closes_at": "2020-07-25T22:00:00+08:00"},
        422,
        "opens_at",
        "already_opened",
    ),
    (
        "reschedule: backwards",
        "phases/publication/reschedule",
        {"opens_at": "2020-12-20T00:00:00+08:00", "closes_at": "2020-12-10T00:00:00+08:00"},
        422,
        "timeline.publication.closes_at",
        "window_order",
    ),
    (
        "amend: after submission opened",
        "amend-rules",
        {"rules": {"members_max": 8}, "reason": "调整"},
        409,
        "rules",
        "filing_opened",
    ),
    (
        "amend: nothing to amend",
        "amend-rules",
        {"rules": {}, "reason": "调整"},
        422,
        "rules",
        "required",
    ),
    (
        "amend: bad value",
        "amend-rules",
        {"rules": {"members_max": -1}, "reason": "调整"},
        422,
        "rules.members_max",
        "constraint",
    ),
    ("archive: no reason", "archive", {}, 422, "reason", "required"),
    ("publish: outside the window", "publish-results", None, 409, "phase", "window_closed"),
]


@pytest.mark.parametrize(
    ("path", "body", "status", "field", "rule"),
    [c[1:] for c in COMMAND_CASES],
    ids=[c[0] for c in COMMAND_CASES],
)
async def test_commands_with_bad_input_name_the_field_and_change_nothing(
    client: Client,
    opened: dict[str, Any],
    module_clock: Clock,
    path: str,
    body: Any,
    status: int,
    field: str,
    rule: str,
) -> None:
    assert module_clock.now == beijing(2020, 7, 10, 9, 0)  # submission is open
    url = f"{SAQ}/{opened['id']}/{path}"

    response = await client.post(url, json=body)

    assert response.status_code == status, response.text
    problem = response.json()
    assert (field, rule) in [(e["field"], e["rule"]) for e in problem["errors"]], problem
    after = await client.get(f"{SAQ}/{opened['id']}")
    assert after.headers["etag"] == '"1"'
    assert after.json() == opened
