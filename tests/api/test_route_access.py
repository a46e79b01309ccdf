"""Every route of the route table, with every role, in its own and another tenant, for its own
and for others' records: the access each route declares is what HTTP enforces.

The routes are read from the app, so a route added later is walked without editing this test.
What the answers contain is walked by test_route_content (record-level rules: api/platform/records.py).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import pytest
from litestar.testing import AsyncTestClient

from aggregates.account import AccountStatus, Grant
from aggregates.actor import Actor, Role
from aggregates.submission_forms import TeamForm
from api.platform.access import Access
from tests.api.claims_support import claimant, invited_colleague, refuse
from tests.support import campaign_body, new_password

Client = AsyncTestClient[Any]
SAQ = "/api/v1/tenants/saq"
ROLES = [
    (Role.SECRETARIAT, None),
    (Role.APPLICANT_UNIT, "91100000100003962T"),
    (Role.RECOMMENDING_UNIT, "pudong"),
    (Role.REVIEWER, "QC-2024-0001"),
    (Role.AUDITOR, None),
]
PUBLIC_OPERATIONS = {
    "login",
    "requestPasswordReset",
    "resetPassword",
    "registerApplicant",
    "confirmRegistration",
    "acceptInvitation",
    "health",
    "verifyCertificate",
    "verifyCertificatePage",
    "portalHome",
    "portalTenant",
    "portalNotice",
    "portalCountdown",
    "portalForm",
    "portalResults",
    "portalPublicNotice",
    "portalLanguage",
    "portalSignInPage",
    "portalSignIn",
    "portalRegistrationPage",
    "portalCheckCreditCode",
    "portalRegister",
    "portalConfirmationPage",
    "portalConfirm",
    "portalInvitationPage",
    "portalAcceptInvitation",
    "portalResetPage",
    "portalRequestReset",
    "portalResetConfirmationPage",
    "portalResetPassword",
    "portalDemoSignIn",
    "askPublicObjection",
    "confirmPublicObjection",
    "portalObjectionForm",
    "portalAskObjection",
    "portalConfirmObjection",
}
"""The only routes reachable without a session (besides the OpenAPI documents and the portal's
static files)."""

pytestmark = [
    pytest.mark.parametrize("backend", ["sqlite"]),  # authorisation is storage-blind
    pytest.mark.tenants("saq", "sdaq"),
]


def routes(client: Client) -> list[tuple[str, str, Any]]:
    found = []
    for route in client.app.routes:
        for handler in getattr(route, "route_handlers", []):
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                found.append((method, route.path, handler))
    return found


class World:
    """Two tenants, each with a campaign and an account of every role."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.platform = client.app.state.platform
        self.records: dict[str, dict[str, UUID]] = {}
        self.accounts: dict[tuple[str, Role], UUID] = {}

    def build(self) -> None:
        setup = Actor("test-setup", Role.OPERATOR)
        for tenant in ("saq", "sdaq"):
            ledger = self.platform.tenants[tenant].ledger
            for role, scope in ROLES:
                account = ledger.register_account(
                    login=f"{role.value}@{tenant}.example.cn",
                    name="测试用户",
                    password=new_password(),
                    status=AccountStatus.ACTIVE,
                    grants=[Grant(role, scope)],
                    actor=setup,
                )
                self.accounts[tenant, role] = account.id

    async def open_campaigns(self) -> None:
        for tenant in ("saq", "sdaq"):
            response = await self.client.post(
                f"/api/v1/tenants/{tenant}/campaigns",
                json=campaign_body(),
                headers=self.headers(tenant, Role.SECRETARIAT),
            )
            assert response.status_code == 201, response.text
            campaign_id = UUID(response.json()["id"])
            submission, _ = self.platform.tenants[tenant].ledger.draft_submission(
                campaign_id=campaign_id,
                credit_code="91100000100003962T",
                applicant={"unit_name": "中国工商银行股份有限公司"},
                recommending_unit="direct",
                form=TeamForm(team_name="柜面服务班"),
                actor=Actor("test-setup", Role.APPLICANT_UNIT),
            )
            self.records[tenant] = {
                "campaign_id": campaign_id,
                "account_id": self.accounts[tenant, Role.AUDITOR],
                "submission_id": submission.id,
                "record_id": submission.id,
                "registration_id": uuid5(NAMESPACE_URL, f"registration/{tenant}"),
            }

    def headers(self, tenant: str, role: Role | None) -> dict[str, str]:
        """A fresh session of that tenant's account holding the role (none: no header)."""
        if role is None:
            return {}
        store = self.client.app.state.auth[tenant]
        now = self.platform.tenants[tenant].ledger.clock()
        session_id, expires_at = store.open_session(
            self.accounts[tenant, role], 0, now, timedelta(hours=1)
        )
        token = self.client.app.state.signer.session_token(tenant, session_id, expires_at)
        return {"Authorization": f"Bearer {token}"}

    def path(self, template: str, tenant: str, record_tenant: str) -> str:
        values = {
            "tenant": tenant,
            "phase": "submission",
            "path": "openapi.json",
            "kind": "report",
            "record": "submission",
            "unit": "pudong",
            "certificate_number": "QC-2024-0001",
            "sha256": "0" * 64,
            "round_code": "initial",
            "objection_id": str(uuid5(NAMESPACE_URL, "objection")),
            "code": "SAQ-2024-QC-ABCDEFGH",
            "credit_code": "91100000100003962T",
            "form": "recommendation.xlsx",
            "language": "en",
            "file_path": "portal.css",
            "token": "not-a-demo-link",
            "act": "close",
            **{k: str(v) for k, v in self.records[record_tenant].items()},
        }

        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            assert name in values, f"the route walk has no sample for path parameter {name!r}"
            return values[name]

        return re.sub(r"\{(\w+)(?::\w+)?\}", fill, template)


@pytest.fixture
async def world(anonymous: Client) -> World:
    world = World(anonymous)
    world.build()
    await world.open_campaigns()
    return world


async def call(client: Client, method: str, path: str, headers: dict[str, str]) -> int:
    body = {} if method in ("POST", "PUT", "PATCH") else None
    response = await client.request(method, path, json=body, headers=headers)
    return response.status_code


async def test_only_the_expected_routes_are_public(world: World) -> None:
    public = {
        handler.operation_id
        for _, path, handler in routes(world.client)
        if handler.opt["access"].public and not path.startswith(("/schema", "/static"))
    }
    assert public == PUBLIC_OPERATIONS


async def test_without_a_session_only_public_routes_answer(world: World) -> None:
    for method, template, handler in routes(world.client):
        rule: Access = handler.opt["access"]
        status = await call(world.client, method, world.path(template, "saq", "saq"), {})
        if rule.public:
            assert status != 401, (method, template)
        else:
            assert status == 401, (method, template, status)


async def test_litestars_own_answers_to_options_are_refused_too(world: World) -> None:
    """The guard runs before every handler, the OPTIONS answers Litestar adds to each path
    included (they declare no access rule): no path lists its methods, to anyone."""
    secretariat = world.headers("saq", Role.SECRETARIAT)
    for path in ("/health", "/api/v1/tenants", f"{SAQ}/campaigns"):
        for headers in ({}, secretariat):
            answer = await world.client.options(path, headers=headers)
            assert answer.status_code == 403, (path, headers)
            assert answer.json()["title"] == "该接口未开放"
            assert "allow" not in answer.headers


@pytest.mark.parametrize(("role", "scope"), ROLES, ids=[r.value for r, _ in ROLES])
async def test_every_route_with_every_role(world: World, role: Role, scope: str | None) -> None:
    for method, template, handler in routes(world.client):
        rule: Access = handler.opt["access"]
        if rule.public or ("{tenant" not in template and template.startswith("/schema")):
            continue
        allowed = rule.roles is None or role in rule.roles
        own = await call(
            world.client, method, world.path(template, "saq", "saq"), world.headers("saq", role)
        )
        other_tenant = await call(
            world.client, method, world.path(template, "sdaq", "sdaq"), world.headers("saq", role)
        )
        where = (role.value, method, template)
        if allowed:
            assert own not in (401, 403), (*where, own)
        else:
            assert own == 403, (*where, own)
        if "{tenant" in template:
            assert other_tenant == 404, (*where, "other tenant", other_tenant)
        if allowed and re.search(
            r"\{(campaign_id|account_id|submission_id|registration_id)", template
        ):
            # Another tenant's record through one's own tenant: not found; a write with an
            # empty body may be refused earlier (422), and the other tenant is untouched.
            head = world.platform.tenants["sdaq"].ledger.recorder.max_notification_id()
            others_record = await call(
                world.client,
                method,
                world.path(template, "saq", "sdaq"),
                world.headers("saq", role),
            )
            expected = {404} if method == "GET" else {404, 422}
            assert others_record in expected, (*where, "another tenant's record", others_record)
            assert world.platform.tenants["sdaq"].ledger.recorder.max_notification_id() == head


async def test_an_auditor_reads_everything_and_changes_nothing(world: World) -> None:
    for method, template, handler in routes(world.client):
        rule: Access = handler.opt["access"]
        if rule.public:
            continue
        status = await call(
            world.client,
            method,
            world.path(template, "saq", "saq"),
            world.headers("saq", Role.AUDITOR),
        )
        personal = rule.roles is not None and Role.AUDITOR not in rule.roles  # "mine" views
        if method == "GET" and not personal:  # (a sample record that does not exist: 404)
            assert status in (200, 404), (method, template, status)
        elif method == "GET" or rule.roles is not None:
            assert status == 403, (method, template, status)


async def test_a_claimant_a_refused_claimant_and_an_invited_colleague(world: World) -> None:
    """Around the applicant's enterprise (whose draft is the walk's record): an account whose
    claim to it awaits verification and one whose claim was refused answer like an applicant with
    no records of its own (the enterprise's records: not found); a colleague the applicant invited
    answers like the applicant."""
    credit_code = ROLES[1][1]
    assert credit_code is not None
    secretariat = world.headers("saq", Role.SECRETARIAT)
    await claimant(world.client, "saq", credit_code, "claimant@walk.example.cn")
    await claimant(world.client, "saq", credit_code, "refused@walk.example.cn")
    await refuse(world.client, "saq", secretariat, "refused@walk.example.cn")
    await invited_colleague(
        world.client,
        "saq",
        world.headers("saq", Role.APPLICANT_UNIT),
        credit_code,
        "colleague@walk.example.cn",
    )
    ledger = world.platform.tenants["saq"].ledger
    store = world.client.app.state.auth["saq"]

    def headers(login: str) -> dict[str, str]:
        account = ledger.find_account(login)
        assert account is not None
        now = ledger.clock()
        session_id, expires_at = store.open_session(
            account.id, account.session_epoch, now, timedelta(hours=1)
        )
        token = world.client.app.state.signer.session_token("saq", session_id, expires_at)
        return {"Authorization": f"Bearer {token}"}

    walked = 0
    for method, template, handler in routes(world.client):
        if handler.opt["access"].public or "{tenant" not in template:
            continue
        path = world.path(template, "saq", "saq")
        applicant = await call(
            world.client, method, path, world.headers("saq", Role.APPLICANT_UNIT)
        )
        colleague = await call(world.client, method, path, headers("colleague@walk.example.cn"))
        assert colleague == applicant, ("colleague", method, template, colleague, applicant)
        enterprises = "{submission_id" in template and applicant != 403
        for who in ("claimant", "refused"):
            head = ledger.recorder.max_notification_id()
            got = await call(world.client, method, path, headers(f"{who}@walk.example.cn"))
            # The enterprise's record: not found (an empty body may be refused first, as it
            # is to the applicant); any other route: as to the applicant.
            expected = {404, 422} & {404, applicant} if enterprises else {applicant}
            assert got in expected, (who, method, template, got, expected)
            if enterprises:
                assert ledger.recorder.max_notification_id() == head, (who, method, template)
                walked += 1
    assert walked >= 10

    # Each may draft under the code, but cannot submit what it drafted.
    for who, rule in (("claimant", "awaiting_verification"), ("refused", "claim_refused")):
        account = ledger.find_account(f"{who}@walk.example.cn")
        assert account is not None
        own, _ = ledger.draft_submission(
            campaign_id=world.records["saq"]["campaign_id"],
            credit_code=credit_code,
            applicant={"unit_name": "中国工商银行股份有限公司"},
            recommending_unit="direct",
            form=TeamForm(team_name="柜面服务班"),
            actor=Actor(str(account.id), Role.APPLICANT_UNIT),
        )
        base = f"/api/v1/tenants/saq/submissions/{own.id}"
        mine = headers(f"{who}@walk.example.cn")
        assert (await world.client.get(base, headers=mine)).status_code == 200
        submitted = await world.client.post(f"{base}/submit", json={}, headers=mine)
        assert submitted.status_code == 409, (who, submitted.text)
        assert submitted.json()["errors"][0]["rule"] == rule, (who, submitted.text)
