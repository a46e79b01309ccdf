"""Phase control over HTTP, on SQLite and PostgreSQL: close now, open now, reopen, reschedule an
open phase, extend only an open phase, grading in its window, no publication without grading;
and a season run with close-now and open-now only."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal
from typing import Any

import openpyxl
import pytest

from aggregates.actor import Role
from tests.api.conftest import sign_in
from tests.api.published_world import (
    ROUND,
    Client,
    Secretariat,
    cheap_passwords,
    criteria,
    enrol_experts,
    file_unit,
    ok,
    quality,
    review_plan,
    tenant_config,
)
from tests.api.review_world import window
from tests.api.rounds_world import fill_form
from tests.support import Clock, beijing

pytestmark = pytest.mark.tenants("saq")

API = "/api/v1/tenants/saq"
WHY = {"reason": "最后一个推荐单位已报送"}


def season_body(year: int = 2024) -> dict[str, Any]:
    """A QC campaign whose every phase is scheduled in the future: the test opens them now."""
    return {
        "programme": "qc_group",
        "year": year,
        "title": f"{year}年上海市质量管理小组活动成果交流",
        "contact": {"person": "杨瑾", "phone": "021-52588838"},
        "period_start": f"{year - 1}-01-01",
        "period_end": f"{year - 1}-12-31",
        "rules": {
            "results_per_applicant_min": 1,
            "results_per_applicant_max": None,
            "distinct_topic_types": False,
            "recommendations_per_applicant_max": None,
        },
        "timeline": {
            "registration": window(f"{year}-02-01", f"{year}-03-01"),
            "submission": window(f"{year}-02-01", f"{year}-03-01"),
            "recommendation": window(f"{year}-02-01", f"{year}-03-01"),
            "formal_review": window(f"{year}-03-02", f"{year}-03-15"),
            "material_review": window(f"{year}-03-16", f"{year}-04-30"),
            "grading": window(f"{year}-05-01", f"{year}-05-20"),
            "public_notice": window(f"{year}-05-25", f"{year}-06-01"),
            "publication": window(f"{year}-06-02", f"{year}-06-30"),
        },
    }


async def at(client: Client, clock: Clock, *moment: int) -> None:
    """Business time moves to `moment`; the secretariat signs in again (sessions follow it)."""
    clock.now = beijing(*moment)
    client.headers.update(await sign_in(client, "saq", Role.SECRETARIAT))


def refused(response: Any, status: int) -> set[tuple[str, str]]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return {(e["field"], e["rule"]) for e in response.json()["errors"]}


def closes(campaign: dict[str, Any], phase: str) -> str:
    return next(w["closes_at"] for w in campaign["timeline"] if w["phase"] == phase)


def opens(campaign: dict[str, Any], phase: str) -> str | None:
    return next(w["opens_at"] for w in campaign["timeline"] if w["phase"] == phase)


@pytest.fixture
async def season(client: Client, clock: Clock) -> str:
    """saq's 2024 QC campaign opened on 15 January, filing to open 1 February."""
    await at(client, clock, 2024, 1, 15, 9, 30)
    return str(ok(await client.post(f"{API}/campaigns", json=season_body()), 201, "open")["id"])


async def test_submission_closed_early_then_formal_review_opened_now(
    client: Client, clock: Clock, season: str
) -> None:
    base = f"{API}/campaigns/{season}"
    await at(client, clock, 2024, 2, 10, 9, 0)  # filing open since 1 February
    early = await client.post(f"{base}/phases/submission/close-now", json=WHY)
    assert refused(early, 409) == {("phase", "depends_on_open")}  # registration still open
    ok(await client.post(f"{base}/phases/registration/close-now", json=WHY), 200, "close reg")
    closed = ok(await client.post(f"{base}/phases/submission/close-now", json=WHY), 200, "close")
    assert closes(closed, "submission") == "2024-02-10T09:00:00+08:00"

    early = await client.post(f"{base}/phases/formal_review/open-now", json=WHY)
    assert refused(early, 409) == {("phase", "depends_on_open")}
    assert "成果推荐" in early.json()["errors"][0]["message"]

    ok(await client.post(f"{base}/phases/recommendation/close-now", json=WHY), 200, "close rec")
    clock.now += timedelta(seconds=1)
    opened = ok(await client.post(f"{base}/phases/formal_review/open-now", json=WHY), 200, "open")
    assert opens(opened, "formal_review") == "2024-02-10T09:00:01+08:00"
    assert closes(opened, "formal_review") == "2024-03-15T22:00:00+08:00"
    now = (await client.get(f"{base}/open-phases")).json()["open_phases"]
    assert [p["phase"] for p in now] == ["formal_review"]

    # Reopening submission now that formal review, which depends on it, has started: refused.
    again = await client.post(
        f"{base}/phases/submission/reopen",
        json={"until": "2024-02-20T22:00:00+08:00", "reason": "补报"},
    )
    assert refused(again, 409) == {("phase", "dependent_started")}
    assert "形式审查" in again.json()["errors"][0]["message"]


async def test_extend_does_not_reopen_a_phase_closed_long_ago(
    client: Client, clock: Clock, season: str
) -> None:
    """The issue's case: a registration closed in 2024 reopened until 2026-12 by an extension."""
    base = f"{API}/campaigns/{season}"
    await at(client, clock, 2024, 5, 10, 9, 0)
    extended = await client.post(
        f"{base}/phases/registration/extend-deadline",
        json={"until": "2026-12-31T22:00:00+08:00", "reason": "再报名"},
    )
    assert refused(extended, 409) == {("phase", "already_closed")}
    reopened = await client.post(
        f"{base}/phases/registration/reopen",
        json={"until": "2026-12-31T22:00:00+08:00", "reason": "再报名"},
    )
    assert refused(reopened, 409) == {("phase", "dependent_started")}
    assert "成果申报" in reopened.json()["errors"][0]["message"]
    shown = (await client.get(f"{base}")).json()
    assert closes(shown, "registration") == "2024-03-01T22:00:00+08:00"


async def test_a_closed_phase_is_reopened_with_a_reason_until_its_dependents_open(
    client: Client, clock: Clock, season: str
) -> None:
    base = f"{API}/campaigns/{season}"
    await at(client, clock, 2024, 3, 1, 23, 0)  # filing closed an hour ago
    no_reason = await client.post(
        f"{base}/phases/submission/reopen", json={"until": "2024-03-01T23:59:00+08:00"}
    )
    assert ("reason", "required") in refused(no_reason, 422)
    beside = await client.post(
        f"{base}/phases/submission/reopen",
        json={"until": "2024-03-01T23:59:00+08:00", "reason": "系统故障"},
    )
    assert refused(beside, 409) == {("phase", "dependent_started")}  # recommendation closed
    ok(
        await client.post(
            f"{base}/phases/recommendation/reopen",
            json={"until": "2024-03-02T00:00:00+08:00", "reason": "系统故障，补报一小时"},
        ),
        200,
        "reopen recommendation",
    )
    too_long = await client.post(
        f"{base}/phases/submission/reopen",
        json={"until": "2024-03-05T22:00:00+08:00", "reason": "系统故障"},
    )
    assert refused(too_long, 422) == {("until", "before_dependent")}
    reopened = ok(
        await client.post(
            f"{base}/phases/submission/reopen",
            json={"until": "2024-03-01T23:59:00+08:00", "reason": "系统故障，补报一小时"},
        ),
        200,
        "reopen",
    )
    assert closes(reopened, "submission") == "2024-03-01T23:59:00+08:00"


async def test_an_open_phase_is_rescheduled_keeping_its_start(
    client: Client, clock: Clock, season: str
) -> None:
    base = f"{API}/campaigns/{season}"
    await at(client, clock, 2024, 2, 10, 9, 0)
    moved = ok(
        await client.post(
            f"{base}/phases/submission/reschedule",
            json={"closes_at": "2024-02-25T22:00:00+08:00"},
        ),
        200,
        "reschedule an open phase",
    )
    assert (opens(moved, "submission"), closes(moved, "submission")) == (
        "2024-02-01T00:00:00+08:00",
        "2024-02-25T22:00:00+08:00",
    )


async def test_publication_without_grading_is_refused_when_the_plan_grades(
    client: Client, clock: Clock, season: str
) -> None:
    base = f"{API}/campaigns/{season}"
    config = tenant_config(client, "saq")
    ok(await client.put(f"{base}/review-plan", json=review_plan(config)), 200, "plan")
    await at(client, clock, 2024, 6, 3, 9, 0)  # publication open
    published = await client.post(f"{base}/publish-results")
    assert refused(published, 409) == {("grading", "not_graded")}
    assert (await client.get(base)).json()["status"] == "open"


async def test_grading_is_refused_before_its_window(
    client: Client, clock: Clock, season: str
) -> None:
    base = f"{API}/campaigns/{season}"
    await at(client, clock, 2024, 4, 1, 9, 0)  # grading opens 1 May
    graded = await client.post(f"{base}/grading")
    assert refused(graded, 409) == {("phase", "window_closed")}


async def test_a_season_run_with_close_now_and_open_now_only(client: Client, clock: Clock) -> None:
    """Registration → submission → recommendation → formal review → material review → grading
    → notice → publication on one January morning, the clock moved by seconds (issue 23): with
    a rehearsal of the same year beside it, a 推荐表 returned and imported from its own export
    after an edit in openpyxl, formal review in bulk, and the material review's sheets imported
    from the 评审汇总表 form (a bad row refused with nothing stored, then the fixed file)."""
    with cheap_passwords(client, "saq"):
        await _season(client, clock)


async def _season(client: Client, clock: Clock) -> None:
    config = tenant_config(client, "saq")
    secretariat = Secretariat(client, clock, "saq")
    clock.now = beijing(2024, 1, 15, 9, 30)
    start = clock.now
    h = await secretariat.headers()
    campaign = ok(await client.post(f"{API}/campaigns", json=season_body(), headers=h), 201, "")
    base = f"{API}/campaigns/{campaign['id']}"

    async def step(action: str, phase: str, **extra: str) -> dict[str, Any]:
        clock.now += timedelta(seconds=1)
        return dict(
            ok(
                await client.post(
                    f"{base}/phases/{phase}/{action}",
                    json={"reason": f"{phase} {action}", **extra},
                    headers=await secretariat.headers(),
                ),
                200,
                f"{action} {phase}",
            )
        )

    for phase in ("registration", "submission", "recommendation"):
        await step("open-now", phase)
    ok(await client.put(f"{base}/review-plan", json=review_plan(config), headers=h), 200, "plan")
    experts = await enrol_experts(client, API, config, 2024, h)
    units = ("huangpu", "xuhui")
    filed = [
        s
        for u, unit in enumerate(units)
        for s in await file_unit(client, config, campaign["id"], unit, u, len(units), 2, 2024)
    ]

    rehearsal = ok(
        await client.post(f"{API}/campaigns", json={**season_body(), "rehearsal": True}, headers=h),
        201,
        "a rehearsal beside the real campaign",
    )
    assert rehearsal["id"] != campaign["id"]
    await imports_its_own_edited_form(client, secretariat, base, filed)

    for phase in ("registration", "submission", "recommendation"):
        await step("close-now", phase)
    await step("open-now", "formal_review")
    h = await secretariat.headers()
    passed = ok(
        await client.post(
            f"{base}/formal-review", json={"submissions": [s["id"] for s in filed]}, headers=h
        ),
        200,
        "formal review in bulk",
    )
    assert [r["formal_review"] for r in passed] == ["passed"] * len(filed)
    await step("close-now", "formal_review")
    await step("open-now", "material_review")
    h = await secretariat.headers()
    ok(await client.post(f"{base}/rounds/{ROUND}", json={}, headers=h), 201, "open round")
    assigned = ok(
        await client.post(
            f"{base}/rounds/{ROUND}/assignments/auto",
            json={"certificate_numbers": experts},
            headers=h,
        ),
        200,
        "assign",
    )["assignments"]
    await enters_the_paper_sheets(client, base, h, filed, assigned, experts)
    ok(await client.post(f"{base}/rounds/{ROUND}/aggregate", headers=h), 200, "aggregate")
    ok(await client.post(f"{base}/rounds/{ROUND}/close", headers=h), 200, "close round")

    early = await client.post(f"{base}/grading", headers=h)  # grading not open yet
    assert refused(early, 409) == {("phase", "window_closed")}
    await step("close-now", "material_review")
    await step("open-now", "grading")
    ok(await client.post(f"{base}/grading", headers=await secretariat.headers()), 201, "grade")
    await step("close-now", "grading")
    notice_ends = (clock.now + timedelta(seconds=2)).isoformat()
    await step("open-now", "public_notice", closes_at=notice_ends)
    ok(await client.post(f"{base}/notice", headers=await secretariat.headers()), 200, "notice")
    clock.now += timedelta(seconds=1)  # the notice ran for exactly its (two) seconds
    closed = ok(
        await client.post(f"{base}/notice/close", headers=await secretariat.headers()), 200, ""
    )
    assert closed["status"] == "notice_closed"
    await step("open-now", "publication")
    published = ok(
        await client.post(f"{base}/publish-results", headers=await secretariat.headers()),
        200,
        "publish",
    )
    assert published["status"] == "published"
    results = ok(await client.get(f"{base}/results", headers=await secretariat.headers()), 200, "")
    assert {r["status"] for r in results} == {"published"}
    assert any(r["certificate_code"] for r in results)
    await untouched_by_the_rehearsal(client, await secretariat.headers(), base, results, filed)
    assert clock.now - start < timedelta(minutes=1)


async def untouched_by_the_rehearsal(
    client: Client,
    h: dict[str, str],
    base: str,
    results: list[dict[str, Any]],
    filed: list[dict[str, Any]],
) -> None:
    """The rehearsal beside took neither the real campaign's serials nor its figures."""
    assert sorted(r["serial"] for r in results) == [
        f"SAQ-2024-QC-{n:04d}" for n in range(1, len(filed) + 1)
    ]
    figures = ok(await client.get(f"{base}/statistics", headers=h), 200, "")
    counted = figures["totals"]["figures"]
    assert (counted["submissions"], counted["recommended"]) == (len(filed), len(filed))


async def enters_the_paper_sheets(
    client: Client,
    base: str,
    h: dict[str, str],
    filed: list[dict[str, Any]],
    assigned: dict[str, list[str]],
    experts: list[str],
) -> None:
    """The material review's sheets typed into the round's 评审汇总表 form: one total mistyped
    refuses the file with nothing stored; the fixed file is entered, marked as the
    secretariat's."""
    paper: dict[tuple[str, str], dict[str, Any]] = {}
    for s in filed:
        for reviewer in sorted(assigned[s["id"]]):
            bias = Decimal(experts.index(reviewer)) / 100
            scores = criteria(s["topic_type"], quality(s["order"], len(filed)) + bias)
            paper[(s["serial"], reviewer)] = {
                **{k: float(v) for k, v in scores.items()},
                "合计": float(sum(Decimal(v) for v in scores.values())),
                "评语": "材料翔实",
            }
    form = await client.get(f"{base}/rounds/{ROUND}/sheets/form.xlsx", headers=h)
    assert form.status_code == 200, form.text
    wrong = next(iter(paper))
    mistyped = {**paper, wrong: {**paper[wrong], "合计": paper[wrong]["合计"] + 3}}
    imported = f"{base}/rounds/{ROUND}/sheets/import"
    xlsx = {**h, "content-type": XLSX}
    refused = await client.post(imported, content=fill_form(form.content, mistyped), headers=xlsx)
    assert refused.status_code == 422, refused.text
    assert {e["rule"] for e in refused.json()["errors"]} == {"total_mismatch"}
    round_now = ok(await client.get(f"{base}/rounds/{ROUND}", headers=h), 200, "round")
    assert round_now["sheets"] == []  # nothing stored
    entered = ok(
        await client.post(imported, content=fill_form(form.content, paper), headers=xlsx),
        200,
        "paper sheets imported",
    )
    assert entered["filed"] == len(paper)
    assert {sheet["entered_by"] for sheet in entered["round"]["sheets"]} == {"secretariat"}


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def imports_its_own_edited_form(
    client: Client, secretariat: Secretariat, base: str, filed: list[dict[str, Any]]
) -> None:
    """The secretariat returns huangpu's filed 推荐表; the unit exports it, raises its first
    result's score in Excel's place (openpyxl), imports the file and files the form again."""
    h = await secretariat.headers()
    form = f"{base}/units/huangpu/recommendation"
    ok(await client.post(f"{form}/return", json={"reason": "请核对打分"}, headers=h), 200, "")
    unit = await sign_in(client, "saq", Role.RECOMMENDING_UNIT, "huangpu")
    exported = await client.get(f"{form}.xlsx", headers=unit)
    assert exported.status_code == 200, exported.text
    book = openpyxl.load_workbook(io.BytesIO(exported.content))
    sheet = book.active
    assert sheet is not None
    entry = next(n for n, r in enumerate(sheet.iter_rows(values_only=True), 1) if r[0] == "排序")
    sheet.cell(entry + 1, 5).value = 91
    edited = io.BytesIO()
    book.save(edited)
    ok(
        await client.post(
            f"{form}/import", content=edited.getvalue(), headers={**unit, "content-type": XLSX}
        ),
        200,
        "the edited 推荐表 imported",
    )
    ok(await client.post(f"{form}/file", headers=unit), 200, "filed again")
    shown = ok(await client.get(form, headers=unit), 200, "")
    huangpu = [s["serial"] for s in filed if s["unit"] == "huangpu"]
    assert shown["status"] == "filed"
    assert next(e["score"] for e in shown["entries"]) == "91"
    assert len(shown["entries"]) == len(huangpu)
