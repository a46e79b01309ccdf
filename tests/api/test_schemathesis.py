"""Schemathesis over the whole OpenAPI document: as the secretariat, as an applicant and without
a session, every operation answers no 5xx, nothing its schema does not allow and no status it
does not document (ADR 23).

The budget is bounded: a fixed number of examples per operation and identity, derandomized (the
same requests on every run), no shrinking. SQLite only: what is checked here is the HTTP
contract, which does not depend on the storage. Signed-in identities reach real records: the
path's tenant, campaign, submission and account are those of a small world built first, so that
operations get past "not found" to their rules; without a session, the values are generated.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from litestar import Litestar
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from aggregates.account import AccountStatus, Grant
from aggregates.actor import Actor, Role
from aggregates.submission_forms import TeamForm
from tenants.settings import Settings
from tests.api.conftest import restart_for_test
from tests.support import Clock, PlatformOptions, beijing, campaign_body, new_password

EXAMPLES = 6
"""Examples per operation and identity: about a minute and a half for the three identities."""

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
CREDIT_CODE = "91100000100003962T"


@dataclass
class World:
    app: Litestar
    schema: Any
    accounts: dict[str, UUID | None]
    records: dict[str, str]

    def headers(self, who: str) -> dict[str, str]:
        """A fresh session of the identity's account (an operation may sign it out or change
        its password: each request starts signed in anew)."""
        account_id = self.accounts[who]
        if account_id is None:
            return {}
        ledger = self.app.state.platform.tenants["saq"].ledger
        account = ledger.get_account(account_id)
        session_id, expires_at = self.app.state.auth["saq"].open_session(
            account_id, account.session_epoch, ledger.clock(), timedelta(hours=8)
        )
        token = self.app.state.signer.session_token("saq", session_id, expires_at)
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def world(shared_app: Litestar, platform_options: PlatformOptions) -> Iterator[World]:
    """A world of its own for each identity: what one identity's requests change (a campaign
    archived, a password changed) does not decide what the next one sees. The session's app
    (`shared_app`), started on the world's settings; every tenant, since an operation's tenant is
    any of the registry's; the tests' cheap hasher, since the contract does not depend on the
    cost of a hash (at argon2's recommended cost, each generated sign-in, registration or
    password change checked or hashed one)."""
    with tempfile.TemporaryDirectory(prefix="qcflow-schemathesis-") as data_dir:
        clock = Clock(beijing(2024, 1, 15, 9, 30))
        app = shared_app
        settings = Settings(database_url=None, data_dir=Path(data_dir) / "var")
        restart_for_test(app, settings, clock, platform_options)
        # Loading the document through the app starts its lifespan (kept until the teardown).
        schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
        try:
            yield _build(app, schema)
        finally:
            asgi.shutdown_lifespans()


def _build(app: Litestar, schema: Any) -> World:
    ledger = app.state.platform.tenants["saq"].ledger
    setup = Actor("test-setup", Role.OPERATOR)
    accounts: dict[str, UUID | None] = {"anonymous": None}
    for who, role, scope in (
        ("secretariat", Role.SECRETARIAT, None),
        ("applicant", Role.APPLICANT_UNIT, CREDIT_CODE),
        ("colleague", Role.APPLICANT_UNIT, CREDIT_CODE),  # the accounts/{account_id} routes'
    ):
        accounts[who] = ledger.register_account(
            login=f"{who}@saq.example.cn",
            name="测试用户",
            password=new_password(),
            status=AccountStatus.ACTIVE,
            grants=[Grant(role, scope)],
            actor=setup,
        ).id
    world = World(app, schema, accounts, {})
    timeline = {
        "submission": {
            "opens_at": "2024-01-01T00:00:00+08:00",
            "closes_at": "2024-03-01T00:00:00+08:00",
        }
    }
    with asgi.get_client(app) as client:
        opened = client.post(
            "/api/v1/tenants/saq/campaigns",
            json=campaign_body(year=2024, timeline=timeline),
            headers=world.headers("secretariat"),
        )
    assert opened.status_code == 201, opened.text
    campaign_id = UUID(opened.json()["id"])
    submission, _ = ledger.draft_submission(
        campaign_id=campaign_id,
        credit_code=CREDIT_CODE,
        applicant={"unit_name": "中国工商银行股份有限公司"},
        recommending_unit="direct",
        form=TeamForm(team_name="柜面服务班"),
        actor=Actor(str(accounts["applicant"]), Role.APPLICANT_UNIT),
    )
    world.records = {
        "tenant": "saq",
        "campaign_id": str(campaign_id),
        "submission_id": str(submission.id),
        "record_id": str(submission.id),
        "account_id": str(accounts["colleague"]),
    }
    return world


def run_operation(world: World, operation: Any, who: str) -> None:
    """The operation's examples as `who`; raises the first failure found."""
    fixed = {}
    if who != "anonymous":
        names = {p.name for p in operation.path_parameters}
        fixed = {k: v for k, v in world.records.items() if k in names}

    @given(case=operation.as_strategy(path_parameters=fixed or None))
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def examples(case: Any) -> None:
        case.call_and_validate(headers=world.headers(who), checks=CHECKS)

    examples()


def failures_of(world: World, who: str, run: Callable[..., None] = run_operation) -> list[str]:
    found = []
    for result in world.schema.get_all_operations():
        operation = result.ok()
        try:
            run(world, operation, who)
        except (Exception, BaseExceptionGroup) as error:  # schemathesis' failures, reproducible
            found.append(f"{who} {operation.label}:\n{type(error).__name__}: {error}")
    return found


@pytest.mark.parametrize("who", ["secretariat", "applicant", "anonymous"])
def test_every_operation_keeps_its_documented_contract(world: World, who: str) -> None:
    found = failures_of(world, who)
    assert not found, f"{len(found)} operations break their contract:\n\n" + "\n\n".join(found)
    with asgi.get_client(world.app) as client:
        health = client.get("/health")
    assert health.status_code == 200, f"after the run: {health.text}"
