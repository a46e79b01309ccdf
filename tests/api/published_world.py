"""One provincial tenant's QC campaign driven through the API to published, graded results, with
as few requests as the workflow allows: for tests that start after publication (forwarding to the
national tenant, crash and restart).

`publish_campaign(client, clock, "sdaq", units=("jinan", "qingdao"))` opens the tenant's QC
campaign for the year, files `per_unit` results per recommending unit (one applicant unit each,
with the three required attachments), files each unit's recommendation form, passes every result
in formal review, reviews them in one material round of two reviewers each (three experts, whose
sheets the secretariat enters), grades them by score bands of the tenant's own grade codes so
that about half get a grade, runs the public notice to its end and publishes.

Units and grade codes are the tenant's, as the app under test loaded its configuration. The
builder sets business time (`clock.now`) to 15 January of `year` first, whatever it was, moves
it through the year and leaves it on publication day (`PUBLICATION_DAY`). It signs in its own
secretariat of the tenant (again whenever business time has passed its session) and sends that
bearer header with each request; the client's default headers are not relied on, so any client
of the app will do, signed in or not, whatever the session length. While it runs, the tenant
hashes passwords with the cheapest argon2 (see `cheap_passwords`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from argon2 import PasswordHasher
from litestar.testing import AsyncTestClient

from aggregates.actor import Role
from aggregates.campaign import Programme
from aggregates.credentials import Passwords
from aggregates.credit_code import check_character
from aggregates.review_plan import DEFAULT_CHECKLIST
from aggregates.scoring import DEFAULT_RUBRICS
from tenants.registry import Tenant
from tenants.runtime import Platform
from tests.api.conftest import make_account, sign_in
from tests.api.review_world import window
from tests.api.test_submissions import PDF, qc_result
from tests.support import Clock, beijing

Client = AsyncTestClient[Any]
ROUND = "initial"
REVIEWERS_PER_SUBMISSION = 2
EXPERTS = 3
"""One more than a submission needs, so who scored what differs between submissions."""
REVIEWED_DAY = (5, 26, 9, 0)
"""Month, day, hour and minute of `year` the review is over on: grading day, the notice open."""
PUBLICATION_DAY = (6, 2, 9, 0)
"""Month, day, hour and minute of `year` the clock is left on: the day after the notice ended."""
DIVISIONS = {"saq": "310000", "sdaq": "370000"}
"""Administrative division in the applicants' credit codes; other tenants get one from a digest."""


@dataclass(frozen=True)
class Published:
    tenant: str
    campaign_id: str
    submissions: list[dict[str, Any]]
    """Per result, in filing order: id, serial, unit (recommending unit code), grade (a grade
    code of the tenant, or None), combined (Decimal), title (the topic), experts (certificate
    numbers of the reviewers whose sheets scored it), and also credit_code, unit_name and
    certificate_code (None when ungraded)."""

    def graded(self) -> list[dict[str, Any]]:
        return [s for s in self.submissions if s["grade"] is not None]

    def ungraded(self) -> list[dict[str, Any]]:
        return [s for s in self.submissions if s["grade"] is None]


def tenant_config(client: Client, code: str) -> Tenant:
    """The tenant's configuration as the app under test loaded it (its settings' tenants_dir)."""
    platform: Platform = client.app.state.platform
    tenant = platform.registry.get(code)
    assert tenant is not None, f"the app has no tenant {code!r}"
    return tenant


@contextmanager
def cheap_passwords(client: Client, tenant: str) -> Iterator[None]:
    """argon2 at its cheapest while the builder makes and signs in its accounts (each hash or
    check at the library's recommended cost takes 0.1–0.25 s: most of the builder's time
    otherwise); the tenant's hasher is put back afterwards. The builder's accounts keep their
    cheap hashes, which the default hasher still verifies."""
    platform: Platform = client.app.state.platform
    ledger = platform.tenants[tenant].ledger
    kept = ledger.passwords
    ledger.passwords = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    try:
        yield
    finally:
        ledger.passwords = kept


def campaign_body(tenant: Tenant, year: int) -> dict[str, Any]:
    """The QC campaign of the year, its timeline as review_world.CAMPAIGN's, shifted to `year`."""
    return {
        "programme": "qc_group",
        "year": year,
        "title": f"{year}年{tenant.short_name_zh}质量管理小组活动成果交流",
        "contact": {"person": tenant.contact.person, "phone": tenant.contact.phone},
        "period_start": f"{year - 1}-01-01",
        "period_end": f"{year - 1}-12-31",
        "rules": {
            "results_per_applicant_min": 1,
            "results_per_applicant_max": None,
            "distinct_topic_types": False,
            "recommendations_per_applicant_max": None,
        },
        "timeline": {
            "registration": window(f"{year}-01-01", f"{year}-03-01"),
            "submission": window(f"{year}-01-01", f"{year}-03-01"),
            "recommendation": window(f"{year}-01-01", f"{year}-03-01"),
            "formal_review": window(f"{year}-03-02", f"{year}-03-15"),
            "material_review": window(f"{year}-03-16", f"{year}-04-30"),
            "public_notice": window(f"{year}-05-25", f"{year}-06-01"),
            "publication": window(f"{year}-06-02", f"{year}-06-30"),
        },
    }


def bands(grades: list[str]) -> list[dict[str, Any]]:
    """Score bands, best first: the best from 88, the last from 70 (the middle of the scores
    `quality` spreads), evenly between."""
    last = len(grades) - 1
    return [
        {"grade": g, "min_score": str(70 + (18 * (last - i) // last if last else 0))}
        for i, g in enumerate(grades)
    ]


def review_plan(tenant: Tenant) -> dict[str, Any]:
    grades = [g.code for g in tenant.programmes[Programme.QC_GROUP].grades]
    return {
        "rounds": [
            {
                "code": ROUND,
                "name_zh": "初评",
                "reviewers_per_submission": REVIEWERS_PER_SUBMISSION,
                "aggregation": "mean",
            }
        ],
        "grading": "score",
        "bands": bands(grades),
    }


def quality(i: int, n: int) -> Decimal:
    """How good the i-th of n results is: evenly from 0.95 (the first) down to 0.45 (the last)."""
    return Decimal("0.95") - (Decimal("0.50") * i / (n - 1) if n > 1 else Decimal(0))


def criteria(rubric: str, level: Decimal) -> dict[str, str]:
    level = min(max(level, Decimal(0)), Decimal(1))
    return {
        name: str((weight * level * 2).quantize(Decimal(1), rounding=ROUND_HALF_UP) / 2)
        for name, weight in DEFAULT_RUBRICS[rubric].items()
    }


def credit_code(tenant: str, year: int, n: int) -> str:
    """Distinct per tenant, year and applicant, so results forwarded from several provinces to
    the national tenant never share an applicant."""
    division = DIVISIONS.get(tenant) or str(
        100000 + int(hashlib.sha256(tenant.encode()).hexdigest(), 16) % 800000
    )
    first17 = f"91{division}{year % 100:02d}{n:07d}"
    return first17 + check_character(first17)


def ok(response: Any, status: int, step: str) -> Any:
    """The response's JSON body, once its status is the expected one; else which request of
    which step failed, and its body."""
    request = response.request
    assert response.status_code == status, (
        f"{step}: {request.method} {request.url} answered {response.status_code},"
        f" expected {status}: {response.text}"
    )
    return response.json() if response.content else None


class Secretariat:
    """A secretariat account of the tenant, signed in again whenever business time has moved
    past its session."""

    def __init__(self, client: Client, clock: Clock, tenant: str) -> None:
        self.client, self.clock, self.tenant = client, clock, tenant
        self.login, self.password = make_account(client, tenant, Role.SECRETARIAT)
        self._headers: dict[str, str] = {}
        self._from: datetime | None = None
        self._until: datetime | None = None

    async def headers(self) -> dict[str, str]:
        now = self.clock.now
        if self._from is None or self._until is None or not self._from <= now < self._until:
            body = ok(
                await self.client.post(
                    f"/api/v1/tenants/{self.tenant}/session",
                    json={"login": self.login, "password": self.password},
                ),
                201,
                f"{self.tenant} secretariat sign-in",
            )
            self.client.cookies.clear()  # bearer only, like tests.api.conftest.sign_in
            self._headers = {"Authorization": f"Bearer {body['token']}"}
            self._from, self._until = now, datetime.fromisoformat(body["expires_at"])
        return self._headers


async def enrol_experts(
    client: Client, api: str, tenant: Tenant, year: int, headers: dict[str, str]
) -> list[str]:
    numbers = []
    for i in range(1, EXPERTS + 1):
        number = f"{tenant.code.upper()}-QC-{year}-{i:04d}"
        body = {
            "name": f"评委{i:02d}",
            "work_unit": f"{tenant.short_name_zh}专家委员会第{i}组",
            "mobile": "13900000000",
            "certificate": {
                "kind": "QC小组评审员",
                "number": number,
                "issuing_body": tenant.name_zh,
                "level": "评审员",
                "valid_until": f"{year + 2}-12-31",
            },
        }
        ok(
            await client.post(f"{api}/experts", json=body, headers=headers),
            201,
            f"enrol expert {number}",
        )
        numbers.append(number)
    return numbers


async def attach_required(
    client: Client, tenant: str, submission_id: str, applicant: dict[str, str]
) -> None:
    """The three attachments a QC result needs before it is submitted, distinct per result."""
    upload = {**applicant, "content-type": "application/octet-stream"}
    for kind in ("application_form", "report", "evidence"):
        ok(
            await client.post(
                f"/api/v1/tenants/{tenant}/submissions/{submission_id}/attachments/{kind}",
                params={"name": f"{kind}.pdf"},
                content=PDF + kind.encode() + submission_id.encode(),
                headers=upload,
            ),
            201,
            f"upload {kind} of {submission_id}",
        )


async def file_unit(
    client: Client,
    tenant: Tenant,
    campaign_id: str,
    unit: str,
    u: int,
    units: int,
    per_unit: int,
    year: int,
    names: tuple[str, str] | None = None,
) -> list[dict[str, Any]]:
    """One applicant unit files the unit's results; the unit recommends them all and files its
    form. The k-th result of the u-th unit is the (k × units + u)-th in the order of quality."""
    code, api = tenant.code, f"/api/v1/tenants/{tenant.code}"
    unit_headers = await sign_in(client, code, Role.RECOMMENDING_UNIT, unit)
    form = f"{api}/campaigns/{campaign_id}/units/{unit}/recommendation"
    panel = {
        "name": f"{unit}评委",
        "work_unit": "推荐单位质量协会",
        "certificate_kind": "QC小组评审员",
        "certificate_number": f"{unit.upper()}-QC-0001",
        "mobile": "13700000000",
    }
    ok(
        await client.post(f"{form}/reviewers", json=panel, headers=unit_headers),
        200,
        f"{unit}: add panel reviewer",
    )
    credit = credit_code(code, year, u)
    unit_name = names[0] if names else f"{tenant.short_name_zh}申报单位{u}有限公司"
    applicant = await sign_in(client, code, Role.APPLICANT_UNIT, credit)
    filed = []
    for k in range(per_unit):
        order = k * units + u
        topic_type = ("problem_solving", "innovative")[order % 2]
        title = names[1] if names else f"提高{tenant.short_name_zh}第{order + 1}号工序一次合格率"
        body = qc_result(topic_type, group_name=f"{unit_name}第{k + 1}QC小组", topic_name=title)
        body["recommending_unit"] = unit
        industries = [name for group in tenant.key_industries for name in group.names]
        body["applicant"] = {
            "unit_name": unit_name,
            "key_domain": tenant.key_domains[order % len(tenant.key_domains)],
            "key_industries": industries[order % len(industries) :][:2] if industries else [],
        }
        drafted = ok(
            await client.post(
                f"{api}/campaigns/{campaign_id}/submissions", json=body, headers=applicant
            ),
            201,
            f"{unit}: draft result {k}",
        )
        submission_id = drafted["id"]
        await attach_required(client, code, submission_id, applicant)
        submitted = ok(
            await client.post(f"{api}/submissions/{submission_id}/submit", headers=applicant),
            200,
            f"{unit}: submit {submission_id}",
        )
        entry = {
            "submission_id": submission_id,
            "score": "85",
            "evaluation": "问题分析透彻，对策有效。",
            "reviewer": panel["certificate_number"],
        }
        ok(
            await client.post(f"{form}/entries", json=entry, headers=unit_headers),
            200,
            f"{unit}: recommend {submission_id}",
        )
        filed.append(
            {
                "id": submission_id,
                "serial": submitted["serial"],
                "unit": unit,
                "title": title,
                "credit_code": credit,
                "unit_name": unit_name,
                "topic_type": topic_type,
                "order": order,
            }
        )
    declaration = {"filled_by": "陈静", "phone": "0531-88880000"}
    ok(
        await client.post(f"{form}/declaration", json=declaration, headers=unit_headers),
        200,
        f"{unit}: declaration",
    )
    ok(await client.post(f"{form}/file", headers=unit_headers), 200, f"{unit}: file the form")
    return filed


async def publish_campaign(
    client: Client,
    clock: Clock,
    tenant: str,
    *,
    units: tuple[str, ...],
    per_unit: int = 2,
    year: int = 2024,
    names: tuple[str, str] | None = None,
    rehearsal: bool = False,
    until: str = "published",
) -> Published:
    """The tenant's QC campaign of `year`, published with graded results (see the module);
    `names` gives every applicant unit's name and every result's topic (export tests);
    `rehearsal` opens a rehearsal (演练) instead, beside the year's real one (whose experts it
    reuses when they are enrolled); `until="reviewed"` stops when the review round is closed,
    business time on grading day (REVIEWED_DAY), nothing graded (grade and combined None)."""
    with cheap_passwords(client, tenant):
        return await _publish(client, clock, tenant, units, per_unit, year, names, rehearsal, until)


def _reviewed(tenant: str, campaign_id: str, filed: list[dict[str, Any]]) -> Published:
    keep = ("id", "serial", "unit", "title", "experts", "credit_code", "unit_name")
    submissions = [
        {**{k: s[k] for k in keep}, "grade": None, "combined": None, "certificate_code": None}
        for s in filed
    ]
    return Published(tenant=tenant, campaign_id=campaign_id, submissions=submissions)


async def _publish(
    client: Client,
    clock: Clock,
    tenant: str,
    units: tuple[str, ...],
    per_unit: int,
    year: int,
    names: tuple[str, str] | None = None,
    rehearsal: bool = False,
    until: str = "published",
) -> Published:
    config = tenant_config(client, tenant)
    unknown = [u for u in units if config.unit(u) is None]
    assert units and not unknown, f"{tenant} has no recommending units {unknown or '(none given)'}"
    assert per_unit >= 1
    api = f"/api/v1/tenants/{tenant}"
    secretariat = Secretariat(client, clock, tenant)

    clock.now = beijing(year, 1, 15, 9, 30)
    headers = await secretariat.headers()
    opened = ok(
        await client.post(
            f"{api}/campaigns",
            json={**campaign_body(config, year), "rehearsal": rehearsal},
            headers=headers,
        ),
        201,
        f"open {tenant}'s {year} QC campaign",
    )
    campaign_id = opened["id"]
    base = f"{api}/campaigns/{campaign_id}"
    ok(
        await client.put(f"{base}/review-plan", json=review_plan(config), headers=headers),
        200,
        "plan the review",
    )
    experts = (
        [f"{config.code.upper()}-QC-{year}-{i:04d}" for i in range(1, EXPERTS + 1)]
        if rehearsal
        else await enrol_experts(client, api, config, year, headers)
    )
    filed = [
        s
        for u, unit in enumerate(units)
        for s in await file_unit(
            client, config, campaign_id, unit, u, len(units), per_unit, year, names
        )
    ]

    clock.now = beijing(year, 3, 5, 10, 0)
    headers = await secretariat.headers()
    checklist = dict.fromkeys(DEFAULT_CHECKLIST, True)
    for s in filed:
        reviewed = ok(
            await client.post(
                f"{api}/submissions/{s['id']}/formal-review",
                json={"decision": "pass", "checklist": checklist},
                headers=headers,
            ),
            200,
            f"formal review of {s['id']}",
        )
        assert reviewed["formal_review"] == "passed", reviewed

    clock.now = beijing(year, 3, 20, 9, 0)
    headers = await secretariat.headers()
    entrants = ok(
        await client.post(f"{base}/rounds/{ROUND}", json={}, headers=headers), 201, "open round"
    )["entrants"]
    assert len(entrants) == len(filed), entrants
    assigned = ok(
        await client.post(
            f"{base}/rounds/{ROUND}/assignments/auto",
            json={"certificate_numbers": experts},
            headers=headers,
        ),
        200,
        "assign reviewers",
    )["assignments"]
    n = len(filed)
    for s in filed:
        s["experts"] = sorted(assigned[s["id"]])
        assert len(s["experts"]) == REVIEWERS_PER_SUBMISSION, assigned
        for reviewer in s["experts"]:
            bias = Decimal(experts.index(reviewer)) / 100
            sheet = {
                "submission_id": s["id"],
                "reviewer": reviewer,
                "criteria": criteria(s["topic_type"], quality(s["order"], n) + bias),
            }
            ok(
                await client.post(f"{base}/rounds/{ROUND}/sheets", json=sheet, headers=headers),
                201,
                f"sheet of {reviewer} for {s['id']}",
            )
    ok(await client.post(f"{base}/rounds/{ROUND}/aggregate", headers=headers), 200, "aggregate")
    ok(await client.post(f"{base}/rounds/{ROUND}/close", headers=headers), 200, "close round")

    clock.now = beijing(year, *REVIEWED_DAY)
    if until == "reviewed":
        return _reviewed(tenant, campaign_id, filed)
    headers = await secretariat.headers()
    ok(await client.post(f"{base}/grading", headers=headers), 201, "grade")
    noticed = ok(await client.post(f"{base}/notice", headers=headers), 200, "open notice")
    assert noticed["status"] == "public_notice", noticed

    clock.now = beijing(year, *PUBLICATION_DAY)
    headers = await secretariat.headers()
    closed = ok(await client.post(f"{base}/notice/close", headers=headers), 200, "close notice")
    assert closed["status"] == "notice_closed", closed
    ok(await client.post(f"{base}/publish-results", headers=headers), 200, "publish results")
    results = ok(await client.get(f"{base}/results", headers=headers), 200, "list results")

    rows = {r["submission_id"]: r for r in results}
    assert set(rows) == {s["id"] for s in filed}, results
    submissions = []
    for s in filed:
        row = rows[s["id"]]
        assert row["status"] == "published", row
        submissions.append(
            {
                "id": s["id"],
                "serial": s["serial"],
                "unit": s["unit"],
                "grade": row["grade"],
                "combined": Decimal(row["combined"]),
                "title": s["title"],
                "experts": s["experts"],
                "credit_code": s["credit_code"],
                "unit_name": s["unit_name"],
                "certificate_code": row["certificate_code"],
            }
        )
    return Published(tenant=tenant, campaign_id=campaign_id, submissions=submissions)
