"""The audit step of the review journey: the campaign's outcomes, recomputed from the recorded
score sheets and rules, agree with what was recorded and published, until one stored sheet's
total is altered in the database behind the platform's back."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec

from aggregates.actor import Role
from aggregates.review_round import ReviewRound
from tests.api.conftest import sign_in
from tests.api.review_world import SAQ, World
from tests.tamper import BehindTheBack

TWO = Decimal("0.01")


async def recomputation(w: World, headers: dict[str, str]) -> dict[str, Any]:
    response = await w.client.get(
        f"{SAQ}/audit/campaign/{w.campaign_id}/recomputation", headers=headers
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def recorded_counts(w: World, headers: dict[str, str]) -> list[tuple[str, int, int, int]]:
    """Per round, as the round's own view shows it: sheets filed, sheets counting, results."""
    counts = []
    for code in ("initial", "final", "contest"):
        response = await w.client.get(f"{w.base}/rounds/{code}", headers=headers)
        assert response.status_code == 200, response.text
        r = response.json()
        current = sum(1 for s in r["sheets"] if s["current"])
        counts.append((code, len(r["sheets"]), current, len(r["results"])))
    return counts


async def recomputation_agrees_until_a_score_is_altered(w: World) -> None:
    auditor = await sign_in(w.client, "saq", Role.AUDITOR)  # the client signed out at the end
    found = await recomputation(w, auditor)
    assert (found["intact"], found["differences"]) == (True, [])
    checked = [(r["code"], r["sheets"], r["counted_sheets"], r["results"]) for r in found["rounds"]]
    assert checked == await recorded_counts(w, auditor)
    assert [c[1] for c in checked] == [40 * 4 + 1, 16 * 4, 10 * 5]  # one sheet was corrected
    results = (await w.client.get(f"{w.base}/results", headers=auditor)).json()
    graded = sum(1 for r in results if r["grade"])
    assert found["grading"] == {
        "entries": 40,
        "decisions": 1,
        "published": True,
        "certificates": graded,
    }
    [upheld] = found["decisions"]
    assert (upheld["kind"], upheld["previous"], upheld["grade"]) == (
        "objection",
        "benchmark",
        "excellent",
    )
    assert upheld["reason"] == "经核查，效果检查数据不实，降为优秀级"

    # Someone with database access lowers one recorded sheet total, leaving its criteria.
    tenant = w.client.app.state.platform.tenants["saq"]
    round_id = ReviewRound.create_id(UUID(w.campaign_id), "initial")
    sheet = next(
        e for e in tenant.ledger.events.get(round_id) if isinstance(e, ReviewRound.SheetFiled)
    )
    db = BehindTheBack(tenant.location)
    state = msgspec.json.decode(db.state(round_id, sheet.originator_version))
    criteria = sum(Decimal(v["_data_"]) for v in state["criteria"].values())
    summed = str(criteria.quantize(TWO))
    altered = str(Decimal(state["total"]["_data_"]) - 10)
    state["total"] = {"_type_": "decimal_str", "_data_": altered}
    db.rewrite(round_id, sheet.originator_version, msgspec.json.encode(state))

    found = await recomputation(w, auditor)
    serial = w.entry(str(sheet.submission_id)).serial
    assert found["intact"] is False
    assert found["differences"] == [
        {
            "stage": "round",
            "round_code": "initial",
            "submission_id": str(sheet.submission_id),
            "serial": serial,
            "sheet_id": str(sheet.sheet_id),
            "item": "sheet_total",
            "recorded": altered,
            "recomputed": summed,
            "what": f"初评：成果 {serial} 评委 {sheet.reviewer} 的评分表总分记录为 {altered}，"
            f"按各项评分重算为 {summed}",
        }
    ]

    # The campaign's audit package carries both findings: the difference, and the broken link
    # at the very event that was altered.
    package = await w.client.get(
        f"{SAQ}/audit/campaign/{w.campaign_id}/package.json", headers=auditor
    )
    assert package.status_code == 200, package.text
    assert "attachment" in package.headers["content-disposition"]
    found = package.json()
    assert [h["kind"] for h in found["histories"]] == [
        "campaign",
        "review_round",
        "review_round",
        "review_round",
        "grading",
    ]
    assert found["recomputation"]["differences"][0]["sheet_id"] == str(sheet.sheet_id)
    chain = found["chain"]
    place = db.position(round_id, sheet.originator_version)
    assert (chain["intact"], chain["records_intact"], chain["break_count"]) == (False, False, 1)
    assert (chain["breaks"][0]["position"], chain["breaks"][0]["kind"]) == (place, "changed")
    assert {(p["record_id"], p["version"]) for p in chain["links"]} >= {
        (str(round_id), sheet.originator_version)
    }
    report = await w.client.get(
        f"{SAQ}/audit/campaign/{w.campaign_id}/package.pdf", headers=auditor
    )
    assert report.status_code == 200 and report.content.startswith(b"%PDF")
