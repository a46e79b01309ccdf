"""Input that used to break the platform (issue 16 §3): each is refused at the boundary with a
problem naming the field, nothing is stored, and `/health` stays healthy, on both backends.

The refused requests change nothing, so the tests that only make them share one app per module
on each backend (`module_anonymous`, signed in as the secretariat for a test by `secretariat`)
and one opened campaign (`module_opened`); the tests whose requests are accepted, or that break
a read model, start an app of their own (`anonymous`, `client`)."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import msgspec
import pytest
import pytest_asyncio
from litestar.testing import AsyncTestClient

from aggregates.actor import Role
from tenants.settings import Settings
from tests.api.claims_support import documents
from tests.api.conftest import make_account, sign_in
from tests.api.test_accounts import ICBC
from tests.api.test_metrics import OPERATOR
from tests.api.test_metrics import TOKEN as OPERATIONS_TOKEN
from tests.support import Clock, beijing, campaign_body, new_password
from tests.tamper import BehindTheBack

Client = AsyncTestClient[Any]
SAQ = "/api/v1/tenants/saq"

pytestmark = pytest.mark.tenants("saq")
SHARED = pytest.mark.asyncio(loop_scope="module")
"""The mark of a test on the module's shared app (`module_anonymous`): it runs in its loop."""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The test settings, with an operations token: the tests read /health's detail and /metrics."""
    return msgspec.structs.replace(settings, metrics_token=OPERATIONS_TOKEN)


@pytest.fixture(scope="module")
def module_clock() -> Clock:
    """The shared app's business time: the submission of `module_opened` (the 2020 campaign) is
    open, so that a moment is refused for its range and not for the phase."""
    return Clock(beijing(2020, 7, 10, 9, 0))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def secretariat_bearer(module_anonymous: Client) -> dict[str, str]:
    """A secretariat user of saq on the shared app, signed in; its bearer header."""
    return await sign_in(module_anonymous, "saq", Role.SECRETARIAT)


@pytest.fixture
def secretariat(module_anonymous: Client, secretariat_bearer: dict[str, str]) -> Iterator[Client]:
    """The shared app's client signed in as the secretariat for one test, anonymous again after."""
    module_anonymous.headers.update(secretariat_bearer)
    try:
        yield module_anonymous
    finally:
        del module_anonymous.headers["Authorization"]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def module_opened(module_anonymous: Client, secretariat_bearer: dict[str, str]) -> Any:
    """On the shared app: saq has opened its 2020 team campaign."""
    response = await module_anonymous.post(
        f"{SAQ}/campaigns", json=campaign_body(), headers=secretariat_bearer
    )
    assert response.status_code == 201, response.text
    return response.json()


NUL = "\u0000"


def head(client: Client) -> int:
    return int(client.app.state.platform.tenants["saq"].ledger.recorder.max_notification_id() or 0)


def problems(response: Any) -> set[tuple[str, str]]:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return {(e["field"], e["rule"]) for e in response.json()["errors"]}


async def assert_nothing_stored_and_healthy(client: Client, before: int) -> None:
    assert head(client) == before
    health = await client.get("/health")
    assert health.status_code == 200, health.text
    states = {s.projection: s.state for s in client.app.state.views.statuses("saq")}
    assert set(states.values()) <= {"starting", "active", "standby"}, states


NUL_CASES = [
    ("title", campaign_body(title=f"质量{NUL}信得过"), "title"),
    (
        "nested",
        campaign_body(contact={"person": f"杨{NUL}瑾", "phone": "021-52588838"}),
        "contact.person",
    ),
    ("in a list", campaign_body(co_organisers=["上海市总工会", NUL]), "co_organisers[1]"),
    ("as a key", campaign_body(timeline={f"sub{NUL}": {}}), "timeline.sub\u0000"),
]


@SHARED
@pytest.mark.parametrize(
    ("body", "field"), [c[1:] for c in NUL_CASES], ids=[c[0] for c in NUL_CASES]
)
async def test_a_nul_character_in_a_text_field_is_refused(
    secretariat: Client, body: dict[str, Any], field: str
) -> None:
    client = secretariat
    before = head(client)
    listed = (await client.get(f"{SAQ}/campaigns")).json()

    response = await client.post(f"{SAQ}/campaigns", json=body)

    assert response.status_code == 422, response.text
    assert problems(response) == {(field, "nul_character")}
    await assert_nothing_stored_and_healthy(client, before)
    assert (await client.get(f"{SAQ}/campaigns")).json() == listed


async def test_a_nul_in_the_registration_name_records_nothing_and_the_login_stays_usable(
    anonymous: Client,
) -> None:
    before = head(anonymous)
    body = {
        "login": "wangfang@icbc.example.cn",
        "name": f"王{NUL}芳",
        "password": new_password(),
        "enterprise_name": "中国工商银行股份有限公司上海市分行",
        "credit_code": ICBC,
        **documents("wangfang@icbc.example.cn"),
    }

    refused = await anonymous.post(f"{SAQ}/registrations", json=body)

    assert refused.status_code == 422, refused.text
    assert problems(refused) == {("name", "nul_character")}
    await assert_nothing_stored_and_healthy(anonymous, before)
    again = await anonymous.post(f"{SAQ}/registrations", json={**body, "name": "王芳"})
    assert again.status_code == 202, again.text
    ledger = anonymous.app.state.platform.tenants["saq"].ledger
    registered = ledger.find_account("wangfang@icbc.example.cn")
    assert registered is not None and registered.name == "王芳"  # the login was still free


@SHARED
async def test_a_nul_in_a_query_or_path_parameter_is_refused(
    secretariat: Client, module_opened: dict[str, Any]
) -> None:
    client, opened = secretariat, module_opened
    before = head(client)
    base = f"{SAQ}/campaigns/{opened['id']}"

    listed = await client.get(f"{base}/submissions", params={"recommending_unit": f"x{NUL}"})
    unit = await client.get(f"{base}/units/a%00b/recommendation")

    assert listed.status_code == 422, listed.text
    assert problems(listed) == {("recommending_unit", "nul_character")}
    assert unit.status_code == 422, unit.text
    assert problems(unit) == {("unit", "nul_character")}
    await assert_nothing_stored_and_healthy(client, before)


DEEP = b"[" * 1000 + b"]" * 1000
DEEP_OBJECT = b'{"a":' * 1000 + b"1" + b"}" * 1000
SIGN_IN_BODIES = [
    ("nested 1000 deep", DEEP, "too_deep"),
    ("objects 1000 deep", DEEP_OBJECT, "too_deep"),
    ("nested 40 deep", b'{"login": ' + b"[" * 40 + b"]" * 40 + b"}", "too_deep"),
    ("invalid UTF-8", b'{"login": "\xff\xfe@example.cn", "password": "x"}', "encoding"),
    ("not JSON", b'{"login": ', "malformed"),
]


@SHARED
@pytest.mark.parametrize(
    ("body", "rule"), [c[1:] for c in SIGN_IN_BODIES], ids=[c[0] for c in SIGN_IN_BODIES]
)
async def test_an_unreadable_body_is_a_problem_even_unauthenticated(
    module_anonymous: Client, body: bytes, rule: str
) -> None:
    anonymous = module_anonymous
    before = head(anonymous)

    response = await anonymous.post(
        f"{SAQ}/session", content=body, headers={"content-type": "application/json"}
    )

    assert response.status_code == 400, response.text
    assert problems(response) == {("body", rule)}
    await assert_nothing_stored_and_healthy(anonymous, before)


@SHARED
@pytest.mark.parametrize(
    ("content", "media_type"),
    [
        ('{"login": "%s", "password": "%s"}', "text/plain"),
        ("login=%s&password=%s", "application/x-www-form-urlencoded"),
        ('{"login": "%s", "password": "%s"}', None),
    ],
    ids=["text/plain", "form", "no content type"],
)
async def test_a_body_that_is_not_json_does_not_sign_in(
    module_anonymous: Client, content: str, media_type: str | None
) -> None:
    """A cross-site HTML form can post text/plain or a form: neither reaches the handler."""
    anonymous = module_anonymous
    login, password = make_account(anonymous, "saq", Role.SECRETARIAT)
    headers = {"content-type": media_type} if media_type else {}

    response = await anonymous.post(
        f"{SAQ}/session", content=(content % (login, password)).encode(), headers=headers
    )

    assert response.status_code == 415, response.text
    assert problems(response) == {("content-type", "unsupported_media_type")}
    assert "set-cookie" not in response.headers
    assert (await anonymous.get(f"{SAQ}/me")).status_code == 401


@SHARED
async def test_json_with_a_charset_or_a_json_suffix_is_accepted(module_anonymous: Client) -> None:
    anonymous = module_anonymous
    for media_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        response = await anonymous.post(
            f"{SAQ}/session",
            content=b'{"login": "nobody@example.cn", "password": "x"}',
            headers={"content-type": media_type},
        )
        assert response.status_code == 401, response.text


NOT_NUMBERS = ["NaN", "sNaN", "-Infinity", "1e999", "1e20"]


@SHARED
@pytest.mark.parametrize("score", NOT_NUMBERS)
async def test_a_score_that_is_not_a_finite_number_is_refused(
    secretariat: Client, module_opened: dict[str, Any], score: str
) -> None:
    client, opened = secretariat, module_opened
    unit = await sign_in(client, "saq", Role.RECOMMENDING_UNIT, "pudong")
    before = head(client)
    url = f"{SAQ}/campaigns/{opened['id']}/review-plan"
    rule = "number_range" if score.startswith("1e") else "finite_number"

    weight = await client.put(
        url, json={"presentation_weight": score, "bands": [{"grade": "excellent"}]}
    )
    band = await client.put(url, json={"bands": [{"grade": "excellent", "min_score": score}]})
    sheet = await client.post(
        f"{SAQ}/campaigns/{opened['id']}/rounds/initial/sheets",
        json={"submission_id": str(uuid4()), "criteria": {"选题": "10", "效果": score}},
    )
    entry = await client.post(
        f"{SAQ}/campaigns/{opened['id']}/units/pudong/recommendation/entries",
        json={"submission_id": str(uuid4()), "score": score, "evaluation": "好", "reviewer": "X"},
        headers=unit,
    )

    assert (weight.status_code, problems(weight)) == (422, {("presentation_weight", rule)})
    assert (band.status_code, problems(band)) == (422, {("bands[0].min_score", rule)})
    assert (sheet.status_code, problems(sheet)) == (422, {("criteria.效果", rule)})
    assert (entry.status_code, problems(entry)) == (422, {("score", rule)})
    await assert_nothing_stored_and_healthy(client, before)


@SHARED
@pytest.mark.parametrize(
    "at", ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "1899-12-31T00:00:00"]
)
async def test_a_moment_far_outside_the_platform_years_is_refused(
    secretariat: Client, module_opened: dict[str, Any], module_clock: Clock, at: str
) -> None:
    client, opened = secretariat, module_opened
    assert module_clock.now == beijing(2020, 7, 10, 9, 0)  # submission is open
    base = f"{SAQ}/campaigns/{opened['id']}"
    before = head(client)

    phases = await client.get(f"{base}/open-phases", params={"at": at})
    extended = await client.post(
        f"{base}/phases/submission/extend-deadline", json={"until": at, "reason": "延期"}
    )
    rescheduled = await client.post(
        f"{base}/phases/publication/reschedule",
        json={"opens_at": "2020-12-01T00:00:00+08:00", "closes_at": at},
    )
    window = {"opens_at": at, "closes_at": "2021-07-25T22:00:00+08:00"}
    campaign = await client.post(
        f"{SAQ}/campaigns", json=campaign_body(year=2021, timeline={"submission": window})
    )

    assert (phases.status_code, problems(phases)) == (422, {("at", "moment_range")})
    assert (extended.status_code, problems(extended)) == (422, {("until", "moment_range")})
    assert (rescheduled.status_code, problems(rescheduled)) == (
        422,
        {("closes_at", "moment_range")},
    )
    assert campaign.status_code == 422, campaign.text
    assert [rule for _, rule in problems(campaign)] == ["moment_range"]
    await assert_nothing_stored_and_healthy(client, before)


@SHARED
async def test_an_audit_moment_or_day_outside_the_platform_years_is_refused(
    secretariat: Client, module_opened: dict[str, Any]
) -> None:
    client, opened = secretariat, module_opened
    before = head(client)

    state = await client.get(
        f"{SAQ}/audit/campaign/{opened['id']}/state", params={"at": "0001-01-01T00:00:00+14:00"}
    )
    reads = await client.get(f"{SAQ}/audit/reads", params={"on": "9999-12-31"})

    assert (state.status_code, problems(state)) == (422, {("at", "moment_range")})
    assert (reads.status_code, problems(reads)) == (422, {("on", "moment_range")})
    await assert_nothing_stored_and_healthy(client, before)


def poison(client: Client, campaign_id: UUID, kind: str) -> int:
    """A stored event the campaign list cannot apply, written behind the platform's back; its
    place in the log."""
    location = client.app.state.platform.tenants["saq"].location
    back = BehindTheBack(location)
    (topic,) = back.execute(
        f"SELECT topic FROM {back.events} WHERE originator_id = ? AND originator_version = 1",
        (back._id(campaign_id),),
    )[0]
    state = back.state(campaign_id, 1)
    if kind == "nul":  # what PostgreSQL text cannot hold, as the platform once stored it
        state = state.replace(b'"title":"', b'"title":"\\u0000', 1)
    else:  # what no longer reads at all
        state = b"\xff not an event"
    position = back.insert(campaign_id, 2, str(topic), state)
    back.notify()  # as the platform's own append does: runners on PostgreSQL do not poll
    return position


async def campaign_list_health(client: Client) -> tuple[int, dict[str, Any]]:
    """`/health`'s status code, and the campaign list's state as the app reports it there."""
    response = await client.get("/health")
    status = client.app.state.views["saq"].runners["campaign_list"].status()
    return response.status_code, dataclasses.asdict(status)


def listed(health: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [p for p in health["tenants"]["saq"]["projections"] if p["name"] == name]
    return dict(found)


@pytest.mark.parametrize("kind", ["undecodable", "nul"])
async def test_a_projection_stops_once_at_an_event_it_cannot_apply(
    client: Client,
    opened: dict[str, Any],
    backend: str,
    kind: str,
    capfd: pytest.CaptureFixture[str],
) -> None:
    if kind == "nul" and backend == "sqlite":
        pytest.skip("SQLite text holds a NUL: the event applies there")
    position = poison(client, UUID(opened["id"]), kind)

    for _ in range(100):
        status, found = await campaign_list_health(client)
        if found["state"] == "halted":
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)  # twenty poll intervals: time for retries, were there any

    status, found = await campaign_list_health(client)
    assert (status, found["state"], found["position"]) == (503, "halted", position - 1), found
    assert f"event {position} (aggregates.campaign:Campaign.Opened)" in found["error"]
    detail = await client.get("/health", headers=OPERATOR)  # the detail of /health
    shown = listed(detail.json(), "campaign_list")
    assert (shown["state"], shown["error"]) == ("halted", found["error"])
    halted = [
        line
        for line in capfd.readouterr().out.splitlines()
        if "projection_halted" in line and "campaign_list" in line
    ]
    assert len(halted) == 1, halted
    metrics = (await client.get("/metrics", headers=OPERATOR)).text
    assert (
        'qcflow_projection_state{kind="read_model",projection="campaign_list",'
        'state="halted",tenant="saq"} 1.0'
    ) in metrics
    started = time.monotonic()
    other = await client.post(f"{SAQ}/campaigns", json=campaign_body(year=2021))
    assert other.status_code == 201, other.text
    assert time.monotonic() - started < 3  # no command waits for a read model that stopped

    settings = client.app.state.settings
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "QCFLOW_DATA_DIR": str(settings.data_dir)}
    env.pop("QCFLOW_DATABASE_URL", None)
    env.update({"QCFLOW_DATABASE_URL": settings.database_url} if settings.database_url else {})
    command = [sys.executable, "-c", "from api.cli import main; raise SystemExit(main())"]
    shown = subprocess.run(
        [*command, "projections", "status"], env=env, capture_output=True, text=True, check=True
    )
    (line,) = [
        line for line in shown.stdout.splitlines() if line.startswith("saq\tcampaign_list\t")
    ]
    assert line.split("\t")[2] == "halted" and f"event {position} (" in line, line
