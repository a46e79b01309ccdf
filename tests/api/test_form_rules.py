"""The applicant channel's form rules, each broken in turn: a 422 problem naming the field and
rule, and nothing stored (the rest of the channel's rules: test_submission_rules.py).

The refused requests change nothing, so every case of a module shares one app and one campaign
per programme, built once per module on each backend (`module_anonymous`); a case whose
request is accepted must not be added here."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_asyncio

from aggregates.actor import Role
from tests.api.conftest import sign_in
from tests.api.test_submission_rules import Client, assert_problem, head, registration
from tests.api.test_submissions import SAQ, Journey, journey, qc_result, team

pytestmark = [pytest.mark.tenants("saq"), pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def module_client(module_anonymous: Client) -> Client:
    """The module's app, signed in as a secretariat user of saq."""
    module_anonymous.headers.update(await sign_in(module_anonymous, "saq", Role.SECRETARIAT))
    return module_anonymous


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def qc(module_client: Client) -> Journey:
    """saq's 2024 QC campaign, open for submissions, with an applicant and its unit."""
    return await journey(module_client)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def team_campaign(module_client: Client) -> Journey:
    """saq's 2024 team campaign, open for submissions, with an applicant and its unit."""
    return await journey(module_client, "team")


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        (registration(nature="私营"), "nature", "invalid"),
        (registration(key_industries=["造船"]), "key_industries", "not_in_list"),
        (registration(key_domain="农业"), "key_domain", "not_in_list"),
        (registration(promoter={"mobile": "1391234567"}), "promoter.mobile", "mobile_format"),
        (registration(promoter={"email": "liqiang"}), "promoter.email", "email_format"),
        (registration(postcode="20004"), "postcode", "postcode_format"),
        (registration(nature="其他"), "nature_other", "required"),
        (registration(intents=[]), "intents", "required"),
    ],
    ids=["nature", "industry", "domain", "mobile", "e-mail", "postcode", "other nature", "intents"],
)
async def test_a_bad_registration_names_the_field(
    qc: Journey, body: dict[str, Any], field: str, rule: str
) -> None:
    j, client = qc, qc.client
    before = head(client)
    response = await client.post(
        f"{SAQ}/campaigns/{j.campaign['id']}/registrations", json=body, headers=j.applicant
    )
    assert_problem(response, 422, field, rule)
    assert head(client) == before


DRAFT_CASES = [
    (
        "eleven members",
        qc_result(members=[f"成员{i}" for i in range(11)]),
        "qc_result.members",
        "max_members",
    ),
    ("a blank member", qc_result(members=["王芳", " "]), "members[1]", "required"),
    ("intro too long", qc_result(intro="长" * 1201), "intro", "max_length"),
    (
        "unknown unit",
        {**qc_result(), "recommending_unit": "atlantis"},
        "recommending_unit",
        "unknown_unit",
    ),
    ("the team form", team(), "qc_result", "required"),
    ("topic type", qc_result(topic_type="lucky"), "qc_result.topic_type", "invalid"),
]


@pytest.mark.parametrize(
    ("body", "field", "rule"), [c[1:] for c in DRAFT_CASES], ids=[c[0] for c in DRAFT_CASES]
)
async def test_a_bad_draft_names_the_field(
    qc: Journey, body: dict[str, Any], field: str, rule: str
) -> None:
    j, client = qc, qc.client
    before = head(client)
    response = await j.draft(body)
    expected_field = "members" if field == "qc_result.members" else field
    assert response.status_code == 422, response.text
    fields = [(e["field"], e["rule"]) for e in response.json()["errors"]]
    assert (expected_field, rule) in fields or (field, rule) in fields, fields
    assert head(client) == before


SUBMIT_CASES = [
    ("intro too short", qc_result(intro="太短"), "intro", "min_length"),
    (
        "a commitment refused",
        qc_result(commitments=[True, True, False, True]),
        "commitments[2]",
        "must_accept",
    ),
    ("no topic type", qc_result(topic_type=None), "topic_type", "required"),
    ("more members than the group", qc_result(group_size=2), "members", "more_than_group_size"),
]


@pytest.mark.parametrize(
    ("body", "field", "rule"), [c[1:] for c in SUBMIT_CASES], ids=[c[0] for c in SUBMIT_CASES]
)
async def test_an_incomplete_submission_is_refused_naming_the_field(
    qc: Journey, body: dict[str, Any], field: str, rule: str
) -> None:
    j, client = qc, qc.client
    submission_id = await j.complete(body)
    before = head(client)
    assert_problem(await j.submit(submission_id), 422, field, rule)
    assert head(client) == before


TEAM_CASES = [
    (
        "a percentage over 100",
        team(figures={**team()["team"]["figures"], "quality_pass_pct": "101"}),
        "figures.quality_pass_pct",
        "percent_range",
    ),
    (
        "negative complaints",
        team(figures={**team()["team"]["figures"], "complaints": -1}),
        "team.figures.complaints",
        "constraint",
    ),
    ("a workshop", team(team_name="总装车间"), "team_name", "basic_unit"),
    ("report too long", team(sections=["长" * 900] * 6), "sections", "max_length"),
]


@pytest.mark.parametrize(
    ("body", "field", "rule"), [c[1:] for c in TEAM_CASES], ids=[c[0] for c in TEAM_CASES]
)
async def test_a_bad_team_names_the_field(
    team_campaign: Journey, body: dict[str, Any], field: str, rule: str
) -> None:
    j, client = team_campaign, team_campaign.client
    before = head(client)
    assert_problem(await j.draft(body), 422, field, rule)
    assert head(client) == before
