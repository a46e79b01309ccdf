"""A whole Shanghai-style QC campaign reviewed through the API, on SQLite and PostgreSQL: formal
review, two material rounds with a trimmed mean, a presentation contest for the top 10, grading
into three levels with quotas, a public notice with one objection upheld and one dismissed,
publication with certificates and their public verification; then the audit's recomputation of
it all, which agrees until a stored sheet total is altered."""

from __future__ import annotations

import io
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import msgspec
import pytest
from openpyxl import load_workbook

from aggregates.actor import Role
from aggregates.scoring import DEFAULT_RUBRICS
from tenants.settings import Settings
from tests.api.audit_steps import recomputation_agrees_until_a_score_is_altered
from tests.api.claims_support import claimant
from tests.api.conftest import sign_in
from tests.api.review_world import SAQ, UNITS, VIDEO, Client, World, build
from tests.support import Clock, beijing

pytestmark = pytest.mark.tenants("saq")

CHECKLIST = {
    "盖章申报表齐全": True,
    "成果报告齐全": True,
    "成果为近两年内取得": True,
    "推荐单位评审组有持证评委": True,
}
TWO = Decimal("0.01")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The campaign runs for half a year of business time; sessions last through it.
    return msgspec.structs.replace(settings, session_hours=24 * 365)


def trimmed_mean(totals: list[Decimal]) -> Decimal:
    middle = sorted(totals)[1:-1] if len(totals) >= 3 else totals
    return (sum(middle, Decimal(0)) / len(middle)).quantize(TWO, rounding=ROUND_HALF_UP)


async def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def formal_review(w: World) -> None:
    c = w.client
    returned_one = w.entries[-1]
    for e in w.entries:
        decision = "return" if e is returned_one else "pass"
        body = {"decision": decision, "checklist": CHECKLIST}
        if e is returned_one:
            body["checklist"] = {**CHECKLIST, "成果报告齐全": False}
            body["items"] = ["成果报告缺少效果检查数据"]
        reviewed = await ok(
            await c.post(f"{SAQ}/submissions/{e.submission_id}/formal-review", json=body)
        )
        assert reviewed["status"] == ("returned" if e is returned_one else "submitted")
    headers = w.applicants[returned_one.credit_code]
    await ok(
        await c.post(f"{SAQ}/submissions/{returned_one.submission_id}/resubmit", headers=headers)
    )
    passed = await ok(
        await c.post(
            f"{SAQ}/submissions/{returned_one.submission_id}/formal-review",
            json={"decision": "pass", "checklist": CHECKLIST},
        )
    )
    assert passed["formal_review"] == "passed"
    late = await c.post(
        f"{SAQ}/submissions/{w.entries[0].submission_id}/withdraw",
        json={"reason": "企业改制"},
        headers=w.applicants[w.entries[0].credit_code],
    )
    assert (late.status_code, late.json()["errors"][0]["rule"]) == (409, "formally_reviewed")


async def conflicted_reviewers_are_refused_by_hand(w: World) -> None:
    cases = [
        (w.experts[0], next(e for e in w.entries if e.unit == "huangpu"), "评审组成员"),
        (
            w.experts[1],
            next(e for e in w.entries if e.unit_name == "申报单位0股份有限公司"),
            "本人工作单位",
        ),
        (
            w.experts[2],
            next(e for e in w.entries if e.unit_name == "申报单位3股份有限公司"),
            "本人工作单位",
        ),
        (w.experts[3], next(e for e in w.entries if e.unit == "xuhui"), "申报回避"),
    ]
    for expert, entry, reason in cases:
        refused = await w.client.post(
            f"{w.base}/rounds/initial/assignments",
            json={"submission_id": entry.submission_id, "certificate_number": expert.number},
        )
        assert refused.status_code == 409, refused.text
        problem = refused.json()["errors"][0]
        assert problem["rule"] == "conflict_of_interest" and reason in problem["message"]


def conflicted(w: World, number: str, submission_id: str) -> bool:
    e = w.entry(submission_id)
    return (
        (number == w.experts[0].number and e.unit == "huangpu")
        or (number == w.experts[1].number and e.credit_code == w.experts[1].work_unit_credit_code)
        or (number == w.experts[2].number and e.unit_name == w.experts[2].work_unit)
        or (number == w.experts[3].number and e.unit == "xuhui")
    )


async def assign_and_score(w: World, code: str, rubric: str | None = None) -> dict[str, Any]:
    """Automatic assignment, then every reviewer files each sheet from their own queue."""
    assigned = await ok(await w.client.post(f"{w.base}/rounds/{code}/assignments/auto", json={}))
    loads = Counter(r for reviewers in assigned["assignments"].values() for r in reviewers)
    for submission_id, reviewers in assigned["assignments"].items():
        assert len(reviewers) == assigned["reviewers_per_submission"]
        assert not any(conflicted(w, r, submission_id) for r in reviewers), submission_id
    eligible = [x for x in w.experts if x.number in loads]
    assert max(loads.values()) - min(loads[x.number] for x in eligible) <= 2, loads
    for x in w.experts:
        queue = await ok(await w.client.get(f"{w.base}/review-queue", headers=x.headers))
        for item in (q for q in queue if q["round_code"] == code):
            e = w.entry(item["submission_id"])
            criteria = w.criteria(rubric or e.topic_type, e.quality, x.bias)
            await ok(
                await w.client.post(
                    f"{w.base}/rounds/{code}/sheets",
                    json={"submission_id": e.submission_id, "criteria": criteria},
                    headers=x.headers,
                ),
                201,
            )
    return dict(assigned)


def check_recorded_inputs(round_out: dict[str, Any]) -> None:
    """The recorded inputs (counted sheets, rule) reproduce each recorded score."""
    sheets = {s["sheet_id"]: s for s in round_out["sheets"]}
    for submission_id, result in round_out["results"].items():
        current = [
            s for s in sheets.values() if s["submission_id"] == submission_id and s["current"]
        ]
        totals = sorted(Decimal(s["total"]) for s in current)
        assert Decimal(result["score"]) == trimmed_mean(totals)
        counted = [Decimal(sheets[i]["total"]) for i in result["counted"]]
        assert sorted(counted) == totals[1:-1]
        assert Decimal(result["score"]) == (sum(counted, Decimal(0)) / len(counted)).quantize(TWO)
        assert len(result["excluded"]) >= 2 and result["rule"] == "trimmed_mean"


def counted_sheet_with_room(
    round_out: dict[str, Any], reviewer: str
) -> tuple[dict[str, Any], Decimal]:
    """One of the reviewer's counted sheets, and a new total that stays strictly between the
    submission's lowest and highest (so it is still counted) and differs from the old one: a
    correction to it must change the trimmed mean."""
    for sheet in round_out["sheets"]:
        result = round_out["results"][sheet["submission_id"]]
        if sheet["reviewer"] != reviewer or sheet["sheet_id"] not in result["counted"]:
            continue
        totals = sorted(
            Decimal(s["total"])
            for s in round_out["sheets"]
            if s["submission_id"] == sheet["submission_id"] and s["current"]
        )
        middle = ((totals[0] + totals[-1]) / 2 * 2).to_integral_value() / 2
        if totals[0] < middle < totals[-1] and middle != Decimal(sheet["total"]):
            return sheet, middle
    raise AssertionError(f"no counted sheet of {reviewer} leaves room for a correction")


def criteria_totalling(rubric: str, total: Decimal) -> dict[str, str]:
    """Marks of the rubric adding up to the total: full marks, less cuts from the first items."""
    left = sum(DEFAULT_RUBRICS[rubric].values()) - total
    marks = {}
    for name, points in DEFAULT_RUBRICS[rubric].items():
        cut = min(Decimal(points), left)
        marks[name], left = str(points - cut), left - cut
    return marks


async def correct_a_sheet(w: World) -> None:
    """A reviewer corrects a sheet: the score changes, the original stays in the history."""
    c = w.client
    before = await ok(await c.post(f"{w.base}/rounds/initial/aggregate"))
    x = w.experts[5]
    original, new_total = counted_sheet_with_room(before, x.number)
    e = w.entry(original["submission_id"])
    old_score = Decimal(before["results"][e.submission_id]["score"])
    unchanged = await c.post(
        f"{w.base}/rounds/initial/sheets",
        json={
            "submission_id": e.submission_id,
            "criteria": w.criteria(e.topic_type, e.quality, x.bias),
        },
        headers=x.headers,
    )
    assert (unchanged.status_code, unchanged.json()["errors"][0]["rule"]) == (
        409,
        "already_filed",
    )
    corrected = await ok(
        await c.post(
            f"{w.base}/rounds/initial/sheets",
            json={
                "submission_id": e.submission_id,
                "criteria": criteria_totalling(e.topic_type, new_total),
                "corrects": original["sheet_id"],
                "reason": "“原因分析”一项误填",
            },
            headers=x.headers,
        ),
        201,
    )
    after = await ok(await c.post(f"{w.base}/rounds/initial/aggregate"))
    result = after["results"][e.submission_id]
    assert Decimal(result["score"]) != old_score
    assert result["excluded"][original["sheet_id"]] == "已被更正"
    kept = {s["sheet_id"]: s for s in after["sheets"]}
    assert kept[original["sheet_id"]]["total"] == original["total"]
    assert kept[original["sheet_id"]]["current"] is False
    assert kept[corrected["sheet_id"]]["corrects"] == original["sheet_id"]
    matrix = await ok(await c.get(f"{w.base}/rounds/initial/matrix"))
    row = next(r for r in matrix["rows"] if r["submission_id"] == e.submission_id)
    cell = next(cell for cell in row["cells"] if cell["reviewer"] == x.number)
    assert (cell["corrections"], cell["sheet_id"]) == (1, corrected["sheet_id"])
    assert Decimal(row["score"]) == Decimal(result["score"])
    check_recorded_inputs(after)


async def test_a_shanghai_style_campaign_is_reviewed_graded_noticed_and_published(  # noqa: PLR0915 (one campaign, told in order)
    client: Client, anonymous: Client, clock: Clock
) -> None:
    w = await build(client)
    clock.now = beijing(2024, 3, 5, 10, 0)
    await formal_review(w)

    clock.now = beijing(2024, 3, 20, 9, 0)
    initial = await ok(await client.post(f"{w.base}/rounds/initial", json={}), 201)
    assert len(initial["entrants"]) == 40
    await conflicted_reviewers_are_refused_by_hand(w)
    assigned = await assign_and_score(w, "initial")
    huangpu = next(e for e in w.entries if e.unit == "huangpu")
    assert "评审组成员" in assigned["exclusions"][huangpu.submission_id][w.experts[0].number]
    await correct_a_sheet(w)
    initial = await ok(await client.post(f"{w.base}/rounds/initial/close"))
    summary = await client.get(f"{w.base}/rounds/initial/summary.xlsx")
    sheet = load_workbook(io.BytesIO(summary.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0].endswith("初评评审汇总表") and len(rows) == 3 + 40

    clock.now = beijing(2024, 4, 10, 9, 0)
    final = await ok(await client.post(f"{w.base}/rounds/final", json={"top": 16}), 201)
    by_initial = sorted(
        initial["results"], key=lambda s: (-Decimal(initial["results"][s]["score"]), s)
    )
    assert {e["submission_id"] for e in final["entrants"]} == set(by_initial[:16])
    await assign_and_score(w, "final")
    final = await ok(await client.post(f"{w.base}/rounds/final/aggregate"))
    check_recorded_inputs(final)
    await ok(await client.post(f"{w.base}/rounds/final/close"))

    material = {s: Decimal(r["score"]) for s, r in initial["results"].items()}
    material.update({s: Decimal(r["score"]) for s, r in final["results"].items()})
    top10 = sorted(material, key=lambda s: (-material[s], s))[:10]
    clock.now = beijing(2024, 5, 5, 9, 0)
    contest = await ok(await client.post(f"{w.base}/rounds/contest", json={"top": 10}), 201)
    assert {e["submission_id"] for e in contest["entrants"]} == set(top10)
    without_video = top10[0]
    for submission_id in top10[1:]:
        await ok(
            await client.post(
                f"{SAQ}/submissions/{submission_id}/attachments/video",
                params={"name": "发表视频.mp4"},
                content=VIDEO + submission_id.encode(),
                headers={
                    **w.applicants[w.entry(submission_id).credit_code],
                    "content-type": "application/octet-stream",
                },
            ),
            201,
        )
    await assign_and_score(w, "contest", rubric="presentation")
    contest = await ok(await client.post(f"{w.base}/rounds/contest/aggregate"))
    check_recorded_inputs(contest)
    await ok(await client.post(f"{w.base}/rounds/contest/close"))

    clock.now = beijing(2024, 5, 21, 9, 0)
    graded = await ok(await client.post(f"{w.base}/grading"), 201)
    entries = graded["entries"]
    presentation = {s: Decimal(r["score"]) for s, r in contest["results"].items()}
    for e in entries:
        s = e["submission_id"]
        expected = material[s]
        if s in presentation:
            expected = (material[s] * Decimal("0.6") + presentation[s] * Decimal("0.4")).quantize(
                TWO
            )
        assert Decimal(e["combined"]) == expected
    assert [e["rank"] for e in entries] == list(range(1, 41))
    assert [Decimal(e["combined"]) for e in entries] == sorted(
        (Decimal(e["combined"]) for e in entries), reverse=True
    )
    grades = Counter(e["grade"] for e in entries)
    assert grades["benchmark"] >= 1 and grades["excellent"] >= 1 and grades["promotion"] >= 1
    assert grades["benchmark"] <= 4 and grades["excellent"] <= 12
    public_service = [
        e for e in entries if e["domain"] == "非营利性服务" and e["grade"] == "benchmark"
    ]
    assert len(public_service) <= 1
    for e in entries:
        score = Decimal(e["combined"])
        if e["grade"] == "benchmark":
            assert e["submission_id"] in presentation and e["has_video"] and score >= 80
        elif e["grade"] == "excellent":
            assert score >= 70
        elif e["grade"] == "promotion":
            assert score >= 55
        else:
            assert score < 55
    best = next(e for e in entries if e["submission_id"] == without_video)
    assert best["grade"] != "benchmark" and "缺发表视频" in best["basis"]

    not_presented = next(e for e in entries if e["submission_id"] not in presentation)
    refused = await client.post(
        f"{w.base}/results/{not_presented['submission_id']}/grade",
        json={"grade": "benchmark", "reason": "成果突出"},
    )
    assert refused.status_code == 422
    assert {p["rule"] for p in refused.json()["errors"]} >= {
        "video_required",
        "presentation_required",
    }

    await public_notice(w, clock, entries)
    await publication(w, anonymous, clock)
    await recomputation_agrees_until_a_score_is_altered(w)


async def public_notice(w: World, clock: Clock, entries: list[dict[str, Any]]) -> None:
    c = w.client
    clock.now = beijing(2024, 5, 26, 9, 0)
    noticed = await ok(await c.post(f"{w.base}/notice"))
    assert noticed["status"] == "public_notice"
    benchmark = next(e for e in entries if e["grade"] == "benchmark")
    excellent = next(e for e in entries if e["grade"] == "excellent")
    objector = next(
        code for code in w.applicants if code != w.entry(benchmark["submission_id"]).credit_code
    )
    visible = await ok(await c.get(f"{w.base}/results", headers=w.applicants[objector]))
    assert {r["submission_id"] for r in visible} == {
        e["submission_id"] for e in entries if e["grade"]
    }
    upheld = await ok(
        await c.post(
            f"{w.base}/objections",
            json={
                "submission_id": benchmark["submission_id"],
                "reasons": "该成果的效果数据与现场不符",
            },
            headers=w.applicants[objector],
        ),
        201,
    )
    unit = await sign_in(c, "saq", Role.RECOMMENDING_UNIT, UNITS[0])
    dismissed = await ok(
        await c.post(
            f"{w.base}/objections",
            json={"submission_id": excellent["submission_id"], "reasons": "课题与往年重复"},
            headers=unit,
        ),
        201,
    )
    early = await c.post(f"{w.base}/notice/close")
    assert (early.status_code, early.json()["errors"][0]["rule"]) == (409, "period_running")
    await ok(
        await c.post(
            f"{w.base}/objections/{upheld['objection_id']}/resolve",
            json={
                "decision": "upheld",
                "reason": "经核查，效果检查数据不实，降为优秀级",
                "change_grade": True,
                "grade": "excellent",
            },
        )
    )
    resolved = await ok(
        await c.post(
            f"{w.base}/objections/{dismissed['objection_id']}/resolve",
            json={"decision": "dismissed", "reason": "经核查，课题为本年度新开展"},
        )
    )
    decided = {o["objection_id"]: o["decision"] for o in resolved["objections"]}
    assert decided == {upheld["objection_id"]: "upheld", dismissed["objection_id"]: "dismissed"}
    graded = {e["submission_id"]: e["grade"] for e in resolved["entries"]}
    assert graded[benchmark["submission_id"]] == "excellent"
    assert graded[excellent["submission_id"]] == "excellent"

    clock.now = beijing(2024, 6, 2, 9, 0)
    too_late = await c.post(
        f"{w.base}/objections",
        json={"submission_id": excellent["submission_id"], "reasons": "补充异议"},
        headers=unit,
    )
    assert too_late.status_code == 409
    closed = await ok(await c.post(f"{w.base}/notice/close"))
    assert closed["status"] == "notice_closed"


async def publication(w: World, anonymous: Client, clock: Clock) -> None:
    c = w.client
    clock.now = beijing(2024, 6, 3, 10, 0)
    await ok(await c.post(f"{w.base}/publish-results"))
    results = await ok(await c.get(f"{w.base}/results"))
    graded = [r for r in results if r["grade"]]
    assert graded and all(r["certificate_code"] for r in graded)
    assert all(r["status"] == "published" for r in results)
    assert not any(r["certificate_code"] for r in results if not r["grade"])
    first = graded[0]
    owner = w.applicants[w.entry(first["submission_id"]).credit_code]
    pdf = await c.get(f"{w.base}/results/{first['submission_id']}/certificate.pdf", headers=owner)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert first["certificate_code"].encode() in pdf.content
    stranger = next(
        h for code, h in w.applicants.items() if code != w.entry(first["submission_id"]).credit_code
    )
    hidden = await c.get(
        f"{w.base}/results/{first['submission_id']}/certificate.pdf", headers=stranger
    )
    assert hidden.status_code == 404
    # Someone who registered with the owner's credit code, not yet verified (ADR 0017).
    impostor = await claimant(
        c, "saq", w.entry(first["submission_id"]).credit_code, "certificate-claimant@example.cn"
    )
    claimed = await c.get(
        f"{w.base}/results/{first['submission_id']}/certificate.pdf", headers=impostor
    )
    assert claimed.status_code == 404

    export = await c.get(f"{w.base}/results.xlsx")
    sheet = load_workbook(io.BytesIO(export.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2 + 40 and rows[1][10] == "等级"

    anonymous.headers.clear()
    checked = await ok(await anonymous.get(f"/api/v1/certificates/{first['certificate_code']}"))
    assert checked["valid"] is True
    assert (checked["unit_name"], checked["topic"]) == (first["unit_name"], first["topic"])
    assert checked["grade"] in {"标杆级", "优秀级", "推进级"}
    page = await anonymous.get("/verify", params={"code": first["certificate_code"]})
    assert page.status_code == 200 and "证书有效" in page.text and first["unit_name"] in page.text
    forged = await ok(await anonymous.get("/api/v1/certificates/SAQ-2024-QC-23456789"))
    assert forged["valid"] is False
