"""Every page and every action of the recommending unit's channel (issue 19: its results, its
推荐表 and exports, its 统计表 and 工作总结), asked as ANOTHER recommending unit and as an
applicant: a 404 page, nothing stored; and a unit's own pages never show another unit's
filings, forms or statistics.

The pages are read from the app's route table (as test_route_access does): every portal route a
recommending unit may ask for and the secretariat may not is walked, so a unit page added later is
walked without editing this test.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import AsyncTestClient

from aggregates.actor import Role
from api.platform.access import Access
from tests.api.test_portal_recommending import filed_world, ledger_serial, page_session
from tests.api.test_recommendations import REVIEWER, SUMMARY, form_url, recommend, statistics
from tests.api.test_submissions import ICBC

pytestmark = pytest.mark.tenants("saq")

Client = AsyncTestClient[Any]
EVALUATION = (
    "问题分析透彻，对策有效；数据图表可再规范。"  # tests.api.test_recommendations.recommend
)


def unit_routes(client: Client) -> list[tuple[str, str]]:
    """(method, path) of every portal route of the recommending unit's own pages: a recommending
    unit may ask for it, the secretariat may not (the shared pages — account, claims — are
    walked by test_route_access)."""
    found = []
    for route in client.app.routes:
        if route.path.startswith(("/api", "/schema", "/static")):
            continue
        for handler in getattr(route, "route_handlers", []):
            rule: Access | None = handler.opt.get("access")
            if rule is None or rule.public or rule.roles is None:
                continue
            if Role.RECOMMENDING_UNIT in rule.roles and Role.SECRETARIAT not in rule.roles:
                for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                    found.append((method, route.path))
    return found


class PudongsWorld:
    """浦东新区's three filed results with its 推荐表 (roster, one recommendation), 统计表 and
    工作总结 (through the API); 徐汇区 with one result of its own and nothing else."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.ledger = client.app.state.platform.tenants["saq"].ledger

    async def build(self) -> None:
        j, ids, elsewhere = await filed_world(self.client)
        self.campaign_id = str(j.campaign["id"])
        self.ids, self.elsewhere = ids, elsewhere
        url = form_url(j)
        added = await self.client.post(
            f"{url}/recommendation/reviewers", json=REVIEWER, headers=j.unit
        )
        assert added.status_code == 200, added.text
        assert (await recommend(self.client, j, ids[0])).status_code == 200
        recorded = await self.client.put(f"{url}/statistics", json=statistics(), headers=j.unit)
        assert recorded.status_code == 200, recorded.text
        written = await self.client.put(
            f"{url}/work-summary", json={"text": SUMMARY}, headers=j.unit
        )
        assert written.status_code == 200, written.text
        self.sha256 = str(self.ledger.get_submission(UUID(ids[0])).attachments_state[0]["sha256"])
        self.secrets = [
            *(ledger_serial(self.client, i) for i in ids),
            "降低柜面业务差错率",
            "缩短客户等候时间",
            "提高一次办结率",
            REVIEWER["name"],
            REVIEWER["certificate_number"],
            EVALUATION,
            "浦东新区质量大厦",  # the 统计表's meeting place
            "86500.5",  # its benefit
            SUMMARY[10:40],
            "浦东",
        ]
        """What only 浦东新区 (and the secretariat) may see."""

    def path(self, template: str, unit: str) -> str:
        values = {
            "tenant": "saq",
            "unit": unit,
            "campaign_id": self.campaign_id,
            "submission_id": self.ids[0],
            "sha256": self.sha256,
        }

        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            assert name in values, f"the walk has no sample for path parameter {name!r}"
            return values[name]

        return re.sub(r"\{(\w+)(?::\w+)?\}", fill, template)

    def body(self, token: str, *, echoing: bool = True) -> dict[str, Any]:
        """A post as full as the unit's forms send: on 浦东新区's first result (`echoing`: with
        its roster's member, which a refused form shows again as typed)."""
        roster = {f"reviewer.{k}": v for k, v in REVIEWER.items()} if echoing else {}
        return {
            "csrf_token": token,
            "version": "",
            "submission_id": self.ids[0],
            "order": self.ids,
            "direction": "up",
            "score": "99",
            "evaluation": "改过的评价",
            "reviewer": REVIEWER["certificate_number"] if echoing else "",
            "reason": "不推荐",
            "accept": "yes",
            "filled_by": "冒名",
            "phone": "021-58881234",
            "enterprises": ICBC,
            "section0": "改过的总结",
            **roster,
        }

    def pudongs_records(self) -> tuple[int, int, int, list[int | None]]:
        """The versions of 浦东新区's 推荐表, 统计表, 工作总结 and results."""
        campaign_id = UUID(self.campaign_id)
        return (
            self.ledger.get_recommendation(campaign_id, "pudong").version,
            self.ledger.get_statistics(campaign_id, "pudong").version,
            self.ledger.get_summary(campaign_id, "pudong").version,
            [self.ledger.get_submission(UUID(i)).version for i in self.ids],
        )

    def leaks(self, text: str) -> list[str]:
        return [secret for secret in self.secrets if secret in text]


@pytest.fixture
async def world(anonymous: Client) -> PudongsWorld:
    world = PudongsWorld(anonymous)
    await world.build()
    return world


def has_a_unit(template: str) -> bool:
    return "{unit" in template


async def test_walked_routes_are_the_unit_pages(world: PudongsWorld) -> None:
    walked = unit_routes(world.client)
    assert ("GET", "/{tenant:str}/recommending") in walked
    add = "/{tenant:str}/recommending/{unit:str}/campaigns/{campaign_id:uuid}/form/add"
    assert ("POST", add) in walked
    assert len([r for r in walked if r[0] == "GET"]) >= 9
    assert len([r for r in walked if r[0] == "POST"]) >= 14
    # every route of a unit's page names the unit, save the two lists of one's own units
    assert {t for _, t in walked if not has_a_unit(t)} == {
        "/{tenant:str}/recommending",
        "/{tenant:str}/unit-reports",
    }


@pytest.mark.parametrize(
    ("role", "scope"),
    [(Role.RECOMMENDING_UNIT, "xuhui"), (Role.APPLICANT_UNIT, ICBC)],
    ids=["another unit", "the applicant of its results"],
)
async def test_another_unit_and_an_applicant_get_a_404_page_everywhere(
    world: PudongsWorld, role: Role, scope: str
) -> None:
    token = await page_session(world.client, role, scope)
    head = world.ledger.recorder.max_notification_id()
    for method, template in unit_routes(world.client):
        if not has_a_unit(template) and role is Role.RECOMMENDING_UNIT:
            continue  # its own lists: walked below
        path = world.path(template, "pudong")
        if method == "GET":
            answer = await world.client.get(path, headers={"accept": "text/html"})
        else:
            answer = await world.client.post(path, data=world.body(token))
        where = (role.value, method, template)
        assert answer.status_code == 404, (*where, answer.status_code)
        assert "页面不存在" in answer.text, where
        assert not world.leaks(answer.text), (*where, world.leaks(answer.text))
        assert world.ledger.recorder.max_notification_id() == head, (*where, "stored")


async def test_a_unit_never_sees_another_units_filings_forms_or_statistics(
    world: PudongsWorld,
) -> None:
    """徐汇区 on its own pages (its unit in the address, 浦东新区's result and file in the rest):
    what it may see answers without 浦东新区's data; what it may not is not found; nothing it
    posts touches 浦东新区's records."""
    token = await page_session(world.client, Role.RECOMMENDING_UNIT, "xuhui")
    before = world.pudongs_records()
    shown = 0
    for method, template in unit_routes(world.client):
        path = world.path(template, "xuhui")
        where = (method, template)
        if method == "GET":
            answer = await world.client.get(path, headers={"accept": "text/html"})
            if "{submission_id" in template:
                assert answer.status_code == 404, (*where, answer.status_code)
            else:
                assert answer.status_code == 200, (*where, answer.status_code)
                shown += 1
        else:
            answer = await world.client.post(path, data=world.body(token, echoing=False))
            assert answer.status_code in (200, 404, 409, 422), (*where, answer.status_code)
        body = answer.content.decode("utf-8", "replace")
        assert not world.leaks(body), (*where, world.leaks(body))
    assert shown >= 7  # the lists, results, form and its exports, 统计表, 工作总结
    assert world.pudongs_records() == before
    own = await world.client.get(world.path(template_of("results"), "xuhui"))
    assert world.elsewhere in own.text  # its own result is there


def template_of(name: str) -> str:
    return f"/{{tenant}}/recommending/{{unit}}/campaigns/{{campaign_id}}/{name}"


async def test_the_unit_itself_sees_its_data(world: PudongsWorld) -> None:
    """The control: the markers the walks look for are on 浦东新区's own pages."""
    await page_session(world.client, Role.RECOMMENDING_UNIT, "pudong")
    seen: set[str] = set()
    for method, template in unit_routes(world.client):
        if method == "GET":
            answer = await world.client.get(world.path(template, "pudong"))
            assert answer.status_code == 200, (template, answer.status_code)
            seen.update(world.leaks(answer.content.decode("utf-8", "replace")))
    assert seen == set(world.secrets), set(world.secrets) - seen
