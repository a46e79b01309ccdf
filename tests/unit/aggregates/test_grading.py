"""Grading: grades from the scores by the plan's bands and quotas, and the secretariat's regrading
and overrides before the public notice. (The notice itself: test_public_notice.py.)"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from aggregates.grading import Grading, GradingConflict, InvalidGrading, rank_and_grade
from aggregates.review_plan import GradeBand, ReviewPlan
from aggregates.scoring import AGGREGATION_VERSION
from tests.unit.aggregates.review_support import (
    BY_SCORE,
    GRADES,
    IN_NOTICE,
    ROUNDS,
    SCORE_BANDS,
    SEC,
    VIDEO_PLAN,
    a_campaign,
    graded,
    in_notice,
    rules_of,
    sid,
    standing,
)

BY_RANK = ReviewPlan(
    grading="rank",
    bands=(GradeBand("first", quota=1), GradeBand("second", quota=2), GradeBand("third", quota=3)),
)


def grades(entries: list[dict[str, Any]]) -> dict[str, str | None]:
    return {e["serial"]: e["grade"] for e in entries}


def basis(entries: list[dict[str, Any]], serial: str) -> str:
    return next(str(e["basis"]) for e in entries if e["serial"] == serial)


# Ranking and grading.


def test_grading_by_score_gives_each_result_the_best_band_whose_line_it_reaches() -> None:
    entries = rank_and_grade(
        [standing("A", "85"), standing("B", "92"), standing("C", "70"), standing("D", "69.99")],
        BY_SCORE,
        GRADES,
    )

    assert [(e["serial"], e["rank"], e["grade"]) for e in entries] == [
        ("B", 1, "first"),
        ("A", 2, "second"),
        ("C", 3, "third"),
        ("D", 4, None),
    ]
    assert basis(entries, "B") == ""
    assert basis(entries, "A") == "一等：未达 90 分"
    assert basis(entries, "D") == "一等：未达 90 分；二等：未达 80 分；三等：未达 70 分"


def test_the_contest_score_is_mixed_in_by_the_plans_weight_and_ties_go_to_the_material() -> None:
    entries = rank_and_grade(
        [standing("A", "88", "92"), standing("B", "89.6"), standing("C", "90", "88.6")],
        replace(BY_SCORE, presentation_weight=Decimal("0.4")),
        GRADES,
    )

    assert [(e["serial"], e["combined"]) for e in entries] == [
        ("B", Decimal("89.6")),  # 89.6 of material alone
        ("A", Decimal("89.60")),  # 88 × 0.6 + 92 × 0.4: a tie, but less material
        ("C", Decimal("89.44")),  # 90 × 0.6 + 88.6 × 0.4
    ]


def test_equal_scores_are_ranked_by_serial() -> None:
    entries = rank_and_grade([standing("B", "80"), standing("A", "80")], BY_SCORE, GRADES)

    assert [(e["serial"], e["rank"]) for e in entries] == [("A", 1), ("B", 2)]


def test_grading_by_rank_fills_each_quota_and_passes_the_rest_to_the_next_band() -> None:
    scores = ["95", "94", "93", "92", "91", "90", "89"]
    entries = rank_and_grade([standing(f"R{i}", s) for i, s in enumerate(scores)], BY_RANK, GRADES)

    assert list(grades(entries).values()) == [
        "first",
        "second",
        "second",
        "third",
        "third",
        "third",
        None,
    ]
    assert basis(entries, "R1") == "一等：名额 1 个已满"
    assert basis(entries, "R6") == "一等：名额 1 个已满；二等：名额 2 个已满；三等：名额 3 个已满"


def test_a_full_quota_passes_a_result_above_the_line_to_the_next_band() -> None:
    plan = replace(BY_SCORE, bands=(replace(SCORE_BANDS[0], quota=1), *SCORE_BANDS[1:]))

    entries = rank_and_grade([standing("A", "96"), standing("B", "95")], plan, GRADES)

    assert grades(entries) == {"A": "first", "B": "second"}
    assert basis(entries, "B") == "一等：名额 1 个已满"


def test_a_domain_quota_limits_the_grade_within_its_domain_only() -> None:
    plan = replace(BY_SCORE, domain_quotas={"制造": {"first": 1}})

    entries = rank_and_grade(
        [
            standing("A", "97", domain="制造"),
            standing("B", "96", domain="制造"),
            standing("C", "95", domain="服务"),
            standing("D", "94"),
        ],
        plan,
        GRADES,
    )

    assert grades(entries) == {"A": "first", "B": "second", "C": "first", "D": "first"}
    assert basis(entries, "B") == "一等：“制造”领域名额 1 个已满"


def test_a_band_needing_the_contest_or_its_video_passes_over_a_result_without_it() -> None:
    plan = replace(
        BY_SCORE,
        bands=(
            replace(SCORE_BANDS[0], requires_presentation=True),
            replace(SCORE_BANDS[1], requires_video=True),
            SCORE_BANDS[2],
        ),
    )

    entries = rank_and_grade(
        [
            standing("A", "95", "95", has_video=True),
            standing("B", "95", has_video=True),
            standing("C", "95"),
        ],
        plan,
        GRADES,
    )

    assert grades(entries) == {"A": "first", "B": "second", "C": "third"}
    assert basis(entries, "B") == "一等：未参加发表赛"
    assert basis(entries, "C") == "一等：未参加发表赛；二等：缺发表视频"


def test_each_entry_carries_what_the_notice_and_certificates_need() -> None:
    [entry] = rank_and_grade([standing("A", "91", domain="制造")], BY_SCORE, GRADES)

    assert entry == {
        "submission_id": sid("A"),
        "serial": "A",
        "unit_name": "申报单位A",
        "group_name": "QC小组A",
        "topic": "降低设备故障率",
        "recommending_unit": "济南市质量协会",
        "domain": "制造",
        "material": Decimal(91),
        "presentation": None,
        "combined": Decimal(91),
        "rank": 1,
        "grade": "first",
        "has_video": False,
        "basis": "",
    }


# The grading aggregate.


def test_grading_records_the_entries_the_rounds_used_and_the_rule_version() -> None:
    campaign = a_campaign(BY_SCORE)
    entries = rank_and_grade([standing("A", "91")], BY_SCORE, GRADES)

    grading = Grading.grade(campaign, entries, ROUNDS, SEC)

    [event] = grading.collect_events()
    assert isinstance(event, Grading.Graded)
    assert event.originator_id == Grading.create_id(campaign.id)
    assert (event.entries, event.rounds, event.rule_version) == (
        entries,
        ROUNDS,
        AGGREGATION_VERSION,
    )
    assert grading.status == "graded"
    assert [e["serial"] for e in grading.graded()] == ["A"]


def test_grading_needs_the_plans_bands_and_some_scored_results() -> None:
    with pytest.raises(InvalidGrading) as no_bands:
        Grading.grade(a_campaign(), [{"submission_id": sid("A")}], ROUNDS, SEC)
    with pytest.raises(InvalidGrading) as no_entries:
        Grading.grade(a_campaign(BY_SCORE), [], ROUNDS, SEC)

    assert rules_of(no_bands) == {("plan.bands", "required")}
    assert rules_of(no_entries) == {("entries", "required")}


def test_regrading_replaces_the_entries_and_drops_the_overrides() -> None:
    campaign, grading = graded()
    grading.override(campaign, sid("C"), None, "数据存疑", SEC)
    entries = rank_and_grade([standing("C", "82")], VIDEO_PLAN, GRADES)

    grading.regrade(campaign, entries, ROUNDS, SEC)

    assert [type(e) for e in grading.collect_events()] == [
        Grading.GradeOverridden,
        Grading.Regraded,
    ]
    assert list(grading.entries) == [str(sid("C"))]
    assert (grading.entries[str(sid("C"))]["grade"], grading.overrides) == ("third", {})


def test_an_override_records_the_previous_grade_and_the_reason() -> None:
    campaign, grading = graded()

    grading.override(campaign, sid("B"), "third", " 复核扣分 ", SEC)
    grading.override(campaign, sid("C"), None, "存在抄袭嫌疑", SEC)

    lowered, removed = grading.collect_events()
    assert isinstance(lowered, Grading.GradeOverridden)
    assert (lowered.previous, lowered.grade, lowered.reason) == ("second", "third", "复核扣分")
    assert isinstance(removed, Grading.GradeOverridden)
    assert (removed.previous, removed.grade) == ("third", None)
    assert grading.entries[str(sid("B"))]["grade"] == "third"
    assert grading.entries[str(sid("C"))]["grade"] is None
    assert grading.overrides == {str(sid("B")): "复核扣分", str(sid("C")): "存在抄袭嫌疑"}
    assert [e["serial"] for e in grading.graded()] == ["A", "B"]


def test_an_override_needs_a_reason_and_a_band_whose_requirements_the_result_meets() -> None:
    campaign, grading = graded()

    with pytest.raises(InvalidGrading) as refusal:
        grading.override(campaign, sid("C"), "first", " ", SEC)
    with pytest.raises(InvalidGrading) as no_contest:
        grading.override(campaign, sid("C"), "second", "复核加分", SEC)
    with pytest.raises(InvalidGrading) as unknown:
        grading.override(campaign, sid("C"), "gold", "复核加分", SEC)
    with pytest.raises(GradingConflict) as not_graded:
        grading.override(campaign, sid("Z"), "third", "复核加分", SEC)

    assert rules_of(refusal) == {("grade", "video_required"), ("reason", "required")}
    assert rules_of(no_contest) == {("grade", "presentation_required")}
    assert rules_of(unknown) == {("grade", "unknown_grade")}
    assert rules_of(not_graded) == {("submission_id", "not_graded")}
    assert grading.collect_events() == []


def test_once_the_notice_is_open_grades_change_only_through_objections() -> None:
    campaign, grading = in_notice()

    with pytest.raises(GradingConflict) as override:
        grading.override(campaign, sid("C"), "second", "复核加分", SEC)
    with pytest.raises(GradingConflict) as regrade:
        grading.regrade(campaign, list(grading.entries.values()), ROUNDS, SEC)
    with pytest.raises(GradingConflict) as reopen:
        grading.open_notice(campaign, IN_NOTICE, SEC)

    for refusal in (override, regrade, reopen):
        assert rules_of(refusal) == {("grading", "in_notice")}
