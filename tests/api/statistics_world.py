"""A world for the statistics tests, and the figures expected of it computed independently of the
read models: from the ledger's aggregates, rebuilt from their events by the domain model.

`statistics_world` publishes saq's QC campaigns of 2023 and 2024 (three recommending units), adds
registrations (one unit registered without filing), a draft never submitted and a result
withdrawn, then forwards two graded results to caq, whose formal review passes one and rejects
the other; the outcomes come back to saq."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from aggregates.actor import Role
from aggregates.grading import Grading
from aggregates.recommendation import Recommendation
from aggregates.registration import Registration
from aggregates.review_plan import DEFAULT_CHECKLIST
from aggregates.submission import Submission
from tenants.runtime import TenantRuntime
from tests.api.conftest import sign_in
from tests.api.national_world import CAQ, Forwarder, eventually, national_campaign
from tests.api.published_world import (
    Client,
    Published,
    Secretariat,
    attach_required,
    cheap_passwords,
    credit_code,
    ok,
    publish_campaign,
)
from tests.api.test_submissions import qc_result
from tests.support import Clock, beijing

SAQ = "/api/v1/tenants/saq"
DIMENSIONS = ("recommending_unit", "key_domain", "industry", "topic_type")
REGISTRATION_DIMENSIONS = ("key_domain", "industry")


@dataclass(frozen=True)
class World:
    last_year: Published
    this_year: Published
    caq_campaign_id: str


def registration(unit_name: str, domain: str, industries: list[str]) -> dict[str, Any]:
    return {
        "unit_name": unit_name,
        "member_unit": True,
        "nature": "民营",
        "key_industries": industries,
        "key_domain": domain,
        "address": "上海市黄浦区中山东一路1号",
        "postcode": "200002",
        "managing_department": "质量管理部",
        "promoter": {
            "name": "王芳",
            "department_and_title": "质量管理部 经理",
            "mobile": "13800138000",
            "email": "wangfang@example.cn",
        },
        "intents": ["参加活动申报问题解决型课题"],
    }


async def _extras(client: Client, published: Published) -> None:
    """Registrations, a draft and a withdrawn result in the campaign's filing windows."""
    base = f"{SAQ}/campaigns/{published.campaign_id}"
    filers = sorted({s["credit_code"] for s in published.submissions})
    newcomer = credit_code("saq", 2024, 90)
    choices = [
        ("制造", ["集成电路"]),
        ("市场服务", ["集成电路", "生物医药"]),
        ("建设工程", ["人工智能"]),
    ]
    for code, (domain, industries) in zip([*filers[:2], newcomer], choices, strict=True):
        applicant = await sign_in(client, "saq", Role.APPLICANT_UNIT, code)
        body = registration(f"统计测试单位{code[-4:]}", domain, industries)
        ok(
            await client.post(f"{base}/registrations", json=body, headers=applicant),
            201,
            "register",
        )
    applicant = await sign_in(client, "saq", Role.APPLICANT_UNIT, newcomer)
    drafted = []
    for topic_type in ("innovative", "problem_solving"):
        body = qc_result(topic_type) | {"recommending_unit": "jingan"}
        body["applicant"] = {"unit_name": "统计测试新单位", "key_domain": "建设工程"}
        created = await client.post(f"{base}/submissions", json=body, headers=applicant)
        drafted.append(ok(created, 201, "draft")["id"])
    withdrawn = drafted[1]
    await attach_required(client, "saq", withdrawn, applicant)
    submission = f"/api/v1/tenants/saq/submissions/{withdrawn}"
    ok(await client.post(f"{submission}/submit", headers=applicant), 200, "submit")
    ok(
        await client.post(
            f"{submission}/withdraw", json={"reason": "材料需完善"}, headers=applicant
        ),
        200,
        "withdraw",
    )


async def statistics_world(client: Client, clock: Clock) -> World:
    last_year = await publish_campaign(
        client, clock, "saq", units=("huangpu", "xuhui"), per_unit=2, year=2023
    )
    this_year = await publish_campaign(
        client, clock, "saq", units=("huangpu", "xuhui", "jingan"), per_unit=2, year=2024
    )
    clock.now = beijing(2024, 2, 1, 10, 0)
    await _extras(client, this_year)

    clock.now = beijing(2024, 6, 10, 9, 0)
    national = Secretariat(client, clock, "caq")
    with cheap_passwords(client, "caq"):
        headers = await national.headers()
    opened = ok(
        await client.post(f"{CAQ}/campaigns", json=national_campaign(), headers=headers),
        201,
        "caq opens its campaign",
    )
    shanghai = Forwarder(client, clock, this_year)
    first, second = this_year.graded()[:2]
    await shanghai.forward(first)
    await shanghai.forward(second)
    intake_url = f"{CAQ}/campaigns/{opened['id']}/intake"

    async def received() -> list[dict[str, Any]]:
        rows = ok(await client.get(intake_url, headers=await national.headers()), 200, "intake")
        return [r for row in rows for r in row["received"]]

    async def both_received() -> bool:
        return len(await received()) == 2

    await eventually(both_received, "caq receiving both forwards")
    national_ids = {r["origin_submission_id"]: r["submission_id"] for r in await received()}
    clock.now = beijing(2024, 9, 20, 9, 0)
    checklist = dict.fromkeys(DEFAULT_CHECKLIST, True)
    rejected = {
        "decision": "reject",
        "checklist": checklist | {DEFAULT_CHECKLIST[2]: False},
        "reason": "成果取得时间超过两年",
    }
    for origin, body in ((first, {"decision": "pass", "checklist": checklist}), (second, rejected)):
        ok(
            await client.post(
                f"{CAQ}/submissions/{national_ids[origin['id']]}/formal-review",
                json=body,
                headers=await national.headers(),
            ),
            200,
            "caq formal review",
        )

    async def outcomes_back() -> bool:
        records = [await shanghai.record(s["id"]) for s in (first, second)]
        return all(r["national"]["formal_review"] for r in records)

    await eventually(outcomes_back, "saq hearing of national formal review")
    # The outcome came back through a follower, not a request, so no read-your-writes wait
    # covered it: the statistics are read once saq's read models have passed it.
    ledger = client.app.state.platform.tenants["saq"].ledger
    assert client.app.state.views["saq"].wait(ledger.recorder.max_notification_id())
    return World(last_year, this_year, opened["id"])


# What the figures should be, from the aggregates.


def _aggregates(runtime: TenantRuntime, created: type[Any]) -> list[Any]:
    """Every aggregate whose first event is `created`, as the domain model rebuilds it."""
    ledger = runtime.ledger
    notifications = ledger.recorder.select_notifications(start=1, limit=10**7)
    ids = {n.originator_id for n in notifications if n.topic.endswith(created.__qualname__)}
    return [ledger.repository.get(i) for i in ids]


def entries(runtime: TenantRuntime, campaign_id: str) -> list[dict[str, Any]]:
    """Every registration and submission of the campaign with what is counted of it."""
    cid = UUID(campaign_id)
    recommended: set[UUID] = set()
    for form in _aggregates(runtime, Recommendation.Started):
        if form.campaign_id == cid and form.filed_at is not None and form.invalid_reason is None:
            recommended |= {e["submission_id"] for e in form.entries}
    grades: dict[str, str | None] = {}
    for grading in _aggregates(runtime, Grading.Graded):
        if grading.campaign_id == cid:
            grades |= {sid: e["grade"] for sid, e in grading.entries.items()}
    found = [
        {
            "kind": "registration",
            "key_domain": r.form_state["key_domain"],
            "industry": list(r.form_state["key_industries"]),
        }
        for r in _aggregates(runtime, Registration.Registered)
        if r.campaign_id == cid
    ]
    for topic in (Submission.Drafted, Submission.Received):
        for s in _aggregates(runtime, topic):
            if s.campaign_id != cid:
                continue
            topic_type = s.form_state.get("topic_type")
            national = s.national or {}
            found.append(
                {
                    "kind": "submission",
                    "recommending_unit": s.recommending_unit,
                    "key_domain": s.applicant.get("key_domain"),
                    "industry": list(s.applicant.get("key_industries") or []),
                    "topic_type": getattr(topic_type, "value", topic_type),
                    "status": s.status.value,
                    "filed": s.serial is not None and s.status.value != "withdrawn",
                    "withdrawn": s.serial is not None and s.status.value == "withdrawn",
                    "recommended": s.origin is not None
                    or s.direct_channel_confirmed
                    or s.id in recommended,
                    "formal_review": s.formal_review,
                    "grade": grades.get(str(s.id)),
                    "national": national.get("status"),
                    "national_grade_name": national.get("grade_name"),
                }
            )
    return found


def rate(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def figures(rows: list[dict[str, Any]], with_registrations: bool) -> dict[str, Any]:
    """Counted as a funnel: each stage among the rows of the stage before it."""
    filed = [r for r in rows if r["kind"] == "submission" and r["filed"]]
    recommended = [r for r in filed if r["recommended"]]
    passed = [r for r in recommended if r["formal_review"] == "passed"]
    graded = [r for r in passed if r["grade"] is not None]
    nationally = [r for r in graded if r["national"] not in (None, "withdrawn")]
    counted = {
        "registrations": (
            sum(r["kind"] == "registration" for r in rows) if with_registrations else None
        ),
        "submissions": len(filed),
        "withdrawn": sum(r["kind"] == "submission" and r["withdrawn"] for r in rows),
        "recommended": len(recommended),
        "formal_passed": len(passed),
        "formal_rejected": sum(r["formal_review"] == "rejected" for r in recommended),
        "graded": len(graded),
        "grades": dict(Counter(r["grade"] for r in graded)),
        "forwarded": len(nationally),
        "national_passed": sum(
            r["national"] in ("passed", "graded", "not_graded") for r in nationally
        ),
        "national_rejected": sum(r["national"] == "rejected" for r in nationally),
        "national_graded": sum(r["national"] == "graded" for r in nationally),
        "national_grades": dict(
            Counter(r["national_grade_name"] for r in nationally if r["national"] == "graded")
        ),
        "national_not_graded": sum(r["national"] == "not_graded" for r in nationally),
    }
    stages = [
        ("recommendation_rate", "recommended", "submissions"),
        ("formal_pass_rate", "formal_passed", "recommended"),
        ("grading_rate", "graded", "formal_passed"),
        ("forwarding_rate", "forwarded", "graded"),
        ("national_grading_rate", "national_graded", "forwarded"),
    ]
    counted["rates"] = {name: rate(counted[p], counted[w]) for name, p, w in stages}
    return counted


def expected(
    rows: list[dict[str, Any]], by: str | None, filters: dict[str, str]
) -> tuple[dict[str, Any], dict[str | None, dict[str, Any]]]:
    """Totals and groups for `by` over the rows the filters match."""
    named = ([by] if by else []) + list(filters)
    with_registrations = all(n in REGISTRATION_DIMENSIONS for n in named)

    def matches(row: dict[str, Any]) -> bool:
        if row["kind"] == "registration" and not with_registrations:
            return False
        return all(
            (value in row[name]) if name == "industry" else row.get(name) == value
            for name, value in filters.items()
        )

    kept = [r for r in rows if matches(r)]
    groups: dict[str | None, list[dict[str, Any]]] = {}
    if by is not None:
        for row in kept:
            keys = (row[by] or [None]) if by == "industry" else [row.get(by)]
            for key in keys:
                groups.setdefault(key, []).append(row)
    return figures(kept, with_registrations), {
        k: figures(v, with_registrations) for k, v in groups.items()
    }


def as_read(out: dict[str, Any]) -> dict[str, Any]:
    """An API figures object in the shape `figures` computes."""
    read = dict(out)
    read["grades"] = {g["grade"]: g["count"] for g in out["grades"]}
    read["rates"] = {k: None if v is None else Decimal(v) for k, v in out["rates"].items()}
    return read
