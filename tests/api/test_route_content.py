"""The route walk, for content (test_route_access walks status codes): every route of the route
table, for every account of a campaign in review that does not see everything, answers no id,
name, topic, credit code, comment or score sheet that the account may not read; and neither did
any answer the accounts got while the campaign was built (a reviewer filing a sheet included).

The world is built once for the module: the walk only reads, and a write with an empty body is
refused before it changes anything that the secrets describe."""

from __future__ import annotations

import io
import itertools
import re
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, uuid5

import httpx
import pytest
import pytest_asyncio

from api.app import Startup
from api.platform.access import Access
from tenants.settings import Settings
from tests.api.record_world import (
    ACCOUNTS,
    CLAIMANTS,
    COLLEAGUE,
    EVERYONE_WHO_SEES_ALL,
    RecordWorld,
    build_record_world,
)
from tests.api.test_route_access import routes
from tests.support import APP_POLL, APPS, CHEAP_PASSWORDS, Clock, beijing

pytestmark = pytest.mark.asyncio(loop_scope="module")
WALKED = [a for a in ACCOUNTS if a not in EVERYONE_WHO_SEES_ALL] + [*CLAIMANTS, COLLEAGUE]
SKIPPED = {"logout"}
"""Would end the session the walk is using (and answers nothing)."""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RecordWorld]:
    data_dir: Path = tmp_path_factory.mktemp("records") / "var"
    settings = Settings(database_url=None, data_dir=data_dir, pg_pool_size=2)
    clock = Clock(beijing(2024, 1, 15, 9, 30))
    startup = Startup(settings, clock=clock, poll_interval=APP_POLL, passwords=CHEAP_PASSWORDS)
    async with APPS.client(startup) as client:
        yield await build_record_world(client, clock)


def samples(w: RecordWorld) -> dict[str, list[str]]:
    """Each path parameter's values: every record of the world where it names one."""
    return {
        "tenant": ["saq"],
        "campaign_id": [w.campaign_id],
        "submission_id": [
            w.ids[k]
            for k in ("submission_a", "submission_b", "draft_b", "draft_d", *_drafts(CLAIMANTS))
        ],
        "record_id": [w.ids["submission_a"], w.ids["submission_b"]],
        "record": ["submission"],
        "unit": ["huangpu", "xuhui"],
        "certificate_number": [str(ACCOUNTS[r][1]) for r in ("reviewer_1", "reviewer_2")],
        "account_id": [str(w.accounts[a]) for a in ("applicant_a", "reviewer_1")],
        "registration_id": [w.ids["registration_a"], w.ids["registration_b"]],
        "round_code": ["initial"],
        "phase": ["submission"],
        "act": ["close"],
        "kind": ["report"],
        "sha256": ["0" * 64],
        "objection_id": [str(uuid5(NAMESPACE_URL, "objection"))],
        "code": ["SAQ-2024-QC-ABCDEFGH"],
        "credit_code": [str(ACCOUNTS[a][1]) for a in ("applicant_a", "applicant_b")],
        "path": ["openapi.json"],
    }


def _drafts(accounts: tuple[str, ...]) -> list[str]:
    return [f"draft_{a}" for a in accounts]


def paths(template: str, values: dict[str, list[str]]) -> list[str]:
    names = re.findall(r"\{(\w+)(?::\w+)?\}", template)
    for name in names:
        assert name in values, f"the content walk has no sample for path parameter {name!r}"
    found = []
    for chosen in itertools.product(*(values[n] for n in names)):
        given = dict(zip(names, chosen, strict=True))
        found.append(re.sub(r"\{(\w+)(?::\w+)?\}", lambda m, g=given: g[m.group(1)], template))
    return found


def text_of(response: httpx.Response) -> str:
    """What a reader of the answer sees: the text, or the text inside a workbook."""
    if response.content[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(response.content)) as book:
            return "".join(
                book.read(n).decode("utf-8", "replace")
                for n in book.namelist()
                if n.endswith(".xml")
            )
    return response.content.decode("utf-8", "replace")


def leaks(w: RecordWorld, account: str, asked: str, body: str) -> list[tuple[str, str, str]]:
    """The secrets of others in an answer (besides what the request itself named: a problem
    may echo the path it was asked)."""
    return [
        (account, asked, text)
        for text in sorted(w.forbidden(account))
        if text in body and text not in asked
    ]


async def test_the_world_has_secrets_for_every_walked_account(world: RecordWorld) -> None:
    for account in WALKED:
        assert world.forbidden(account), account
        readable = {t for t, readers in world.secrets.items() if account in readers}
        assert readable, account


async def test_what_each_account_was_answered_while_the_world_was_built(
    world: RecordWorld,
) -> None:
    """Filing a sheet, a unit's form, an applicant's draft: each answer only what its caller may
    read (a reviewer's sheet answers that reviewer's part of the round, not the whole round)."""
    found = [leak for a, asked, body in world.answers for leak in leaks(world, a, asked, body)]
    assert found == []


@pytest.mark.parametrize("account", WALKED)
async def test_every_route_answers_only_what_the_account_may_read(
    world: RecordWorld, account: str
) -> None:
    values = samples(world)
    headers = world.headers(account)
    found: list[tuple[str, str, str]] = []
    own = {t for t, readers in world.secrets.items() if account in readers}
    seen: set[str] = set()
    for method, template, handler in routes(world.client):
        rule: Access = handler.opt["access"]
        if rule.public or "{tenant" not in template or handler.operation_id in SKIPPED:
            continue
        filters: list[dict[str, str]] = [{}]
        if "recommending_unit" in handler.parsed_fn_signature.parameters:
            filters += [{"recommending_unit": unit} for unit in values["unit"]]
        for path, params in itertools.product(paths(template, values), filters):
            body: dict[str, Any] | None = {} if method in ("POST", "PUT", "PATCH") else None
            response = await world.client.request(
                method, path, json=body, params=params, headers=headers
            )
            assert response.status_code < 500, (account, method, path, response.text)
            text = text_of(response)
            found += leaks(world, account, f"{method} {path} {params}", text)
            seen |= {t for t in own if t in text and t not in path}
    assert found == [], "\n".join(map(str, found))
    assert len(seen) >= 3, (account, seen)  # the walk did read the account's own records
    if account == COLLEAGUE:  # it reads what the enterprise that invited it filed
        filed = {world.ids["submission_a"], world.ids["registration_a"], "降低a字号焊缝返修率"}
        assert filed <= seen, (account, filed - seen)
