"""A review round's score sheets (a correction is a new sheet naming the one it corrects), the
aggregated scores with their recorded inputs, and closing the round."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from aggregates.actor import Actor, Role
from aggregates.campaign import Campaign, CampaignConflict
from aggregates.review_plan import ReviewPlan
from aggregates.review_round import InvalidReview, ReviewConflict, ReviewRound
from aggregates.scoring import AGGREGATION_VERSION, Sheet, aggregate
from tests.support import beijing
from tests.unit.aggregates.review_support import (
    IN_MATERIAL,
    IN_PRESENTATION,
    MATERIAL,
    ON,
    SCORE_BANDS,
    SEC,
    a_campaign,
    a_round,
    assign_all,
    entrant,
    file,
    marks,
    panelist,
    rules_of,
    sid,
    timeline,
)

PLAN = ReviewPlan(bands=SCORE_BANDS)
S1, S2 = "2024-001", "2024-002"
FIVE = ["P01", "P02", "P03", "P04", "P05"]


def round_of(
    reviewers: list[str],
    *,
    serials: tuple[str, ...] = (S1,),
    n: int = 3,
    aggregation: str = "trimmed_mean",
) -> tuple[Campaign, ReviewRound]:
    """A material round of the 2024 campaign, every entrant assigned to the reviewers."""
    campaign = a_campaign(PLAN)
    review_round = a_round(campaign, [entrant(s) for s in serials], n=n, aggregation=aggregation)
    return campaign, assign_all(review_round, reviewers)


def sheet_events(review_round: ReviewRound) -> list[ReviewRound.SheetFiled]:
    return [e for e in review_round.collect_events() if isinstance(e, ReviewRound.SheetFiled)]


# Filing.


def test_an_assigned_reviewer_files_a_sheet_with_its_total() -> None:
    campaign, review_round = round_of(["P01"])

    sheet_id = file(review_round, campaign, S1, "P01", "87.5")

    [filed] = review_round.collect_events()
    assert isinstance(filed, ReviewRound.SheetFiled)
    assert (filed.sheet_id, filed.submission_id, filed.reviewer) == (sheet_id, sid(S1), "P01")
    assert (filed.total, filed.corrects, filed.reason) == (Decimal("87.50"), None, "")
    assert filed.criteria == marks(review_round.rubrics["problem_solving"], "87.5")
    assert (filed.actor_id, filed.actor_role) == ("P01", "reviewer")
    assert [(s.sheet_id, s.total) for s in review_round.current_sheets()] == [
        (str(sheet_id), Decimal("87.50"))
    ]
    assert review_round.stale


def test_only_an_assigned_reviewer_files_a_sheet_for_the_submission() -> None:
    campaign, review_round = round_of(["P01"], serials=(S1, S2))
    review_round.release(sid(S2), "P01", "回避", SEC)

    with pytest.raises(ReviewConflict) as stranger:
        file(review_round, campaign, S1, "P09", 80)
    with pytest.raises(ReviewConflict) as released:
        file(review_round, campaign, S2, "P01", 80)

    assert rules_of(stranger) == rules_of(released) == {("submission_id", "not_assigned")}


def test_a_sheet_scores_every_criterion_of_the_rubric_within_its_points() -> None:
    campaign, review_round = round_of(["P01"])
    criteria = marks(review_round.rubrics["problem_solving"], 90)
    criteria["原因分析"] = Decimal(16)
    del criteria["效果检查"]
    criteria["印象分"] = Decimal(5)

    with pytest.raises(InvalidReview) as refusal:
        review_round.file_sheet(
            campaign,
            sheet_id=uuid4(),
            submission_id=sid(S1),
            reviewer="P01",
            criteria=criteria,
            comment="好" * 1001,
            corrects=None,
            reason="",
            at=IN_MATERIAL,
            actor=Actor("P01", Role.REVIEWER),
        )

    assert rules_of(refusal) == {
        ("criteria.原因分析", "range"),
        ("criteria.效果检查", "required"),
        ("criteria.印象分", "unknown_criterion"),
        ("comment", "max_length"),
    }
    assert review_round.collect_events() == []


def test_a_second_sheet_without_naming_the_first_is_refused() -> None:
    campaign, review_round = round_of(["P01"])
    file(review_round, campaign, S1, "P01", 80)

    with pytest.raises(ReviewConflict) as refusal:
        file(review_round, campaign, S1, "P01", 85)

    assert rules_of(refusal) == {("corrects", "already_filed")}


def test_a_correction_replaces_the_current_sheet_and_the_original_stays_on_record() -> None:
    campaign, review_round = round_of(["P01"])
    original = file(review_round, campaign, S1, "P01", 80)

    correction = file(
        review_round, campaign, S1, "P01", 85, corrects=original, reason=" 漏计“对策实施”得分 "
    )

    first, second = sheet_events(review_round)
    assert (first.sheet_id, first.corrects) == (original, None)
    assert (second.sheet_id, second.corrects, second.reason) == (
        correction,
        original,
        "漏计“对策实施”得分",
    )
    assert [s.sheet_id for s in review_round.current_sheets()] == [str(correction)]
    assert set(review_round.sheets) == {str(original), str(correction)}
    assert review_round.sheets[str(original)]["total"] == Decimal("80.00")


def test_only_the_reviewers_current_sheet_can_be_corrected() -> None:
    campaign, review_round = round_of(["P01", "P02"])
    original = file(review_round, campaign, S1, "P01", 80)
    others = file(review_round, campaign, S1, "P02", 82)
    file(review_round, campaign, S1, "P01", 85, corrects=original, reason="漏计得分")

    with pytest.raises(ReviewConflict) as superseded:
        file(review_round, campaign, S1, "P01", 90, corrects=original, reason="再改")
    with pytest.raises(ReviewConflict) as someone_elses:
        file(review_round, campaign, S1, "P01", 90, corrects=others, reason="再改")
    other_campaign, other_round = round_of(["P01"])
    with pytest.raises(ReviewConflict) as nothing_filed:
        file(other_round, other_campaign, S1, "P01", 90, corrects=original, reason="更正")

    for refusal in (superseded, someone_elses, nothing_filed):
        assert rules_of(refusal) == {("corrects", "not_current")}


def test_a_correction_needs_its_reason() -> None:
    campaign, review_round = round_of(["P01"])
    original = file(review_round, campaign, S1, "P01", 80)

    with pytest.raises(InvalidReview) as refusal:
        file(review_round, campaign, S1, "P01", 85, corrects=original, reason="  ")

    assert rules_of(refusal) == {("reason", "required")}


@pytest.mark.parametrize(
    "at",
    [beijing(2024, 5, 31, 23, 59, 59), MATERIAL.closes_at],
    ids=["a second before it opens", "the moment it closes"],
)
def test_sheets_are_filed_within_the_material_review_window(at: datetime) -> None:
    campaign, review_round = round_of(["P01"])

    with pytest.raises(CampaignConflict) as refusal:
        file(review_round, campaign, S1, "P01", 80, at=at)

    assert rules_of(refusal) == {("phase", "window_closed")}


def test_a_contest_files_its_sheets_in_the_presentation_window() -> None:
    campaign = a_campaign(PLAN)
    review_round = assign_all(
        a_round(
            campaign, [entrant(S1, rubric="presentation")], code="contest", kind="presentation"
        ),
        ["P01", "P02"],
    )

    with pytest.raises(CampaignConflict):
        file(review_round, campaign, S1, "P01", 80, at=IN_MATERIAL)
    file(review_round, campaign, S1, "P02", 80, at=IN_PRESENTATION)

    assert [s.reviewer for s in review_round.current_sheets()] == ["P02"]


def test_without_a_scheduled_review_phase_sheets_are_filed_at_any_time() -> None:
    campaign = a_campaign(PLAN, timeline=timeline())
    review_round = assign_all(a_round(campaign, [entrant(S1)]), ["P01"])

    file(review_round, campaign, S1, "P01", 80, at=beijing(2030, 1, 1))

    assert len(review_round.current_sheets()) == 1


def test_a_reviewer_who_filed_a_sheet_cannot_be_released() -> None:
    campaign, review_round = round_of(["P01"])
    file(review_round, campaign, S1, "P01", 80)

    with pytest.raises(ReviewConflict) as refusal:
        review_round.release(sid(S1), "P01", "临时出差", SEC)

    assert rules_of(refusal) == {("certificate_number", "sheet_filed")}


# Aggregation.


def test_scores_are_not_aggregated_while_a_sheet_is_missing() -> None:
    campaign, review_round = round_of(["P01", "P02"], serials=(S1, S2))
    file(review_round, campaign, S1, "P01", 80)
    review_round.collect_events()

    with pytest.raises(ReviewConflict) as refusal:
        review_round.aggregate_scores(SEC)

    assert rules_of(refusal) == {
        ("sheets.2024-001.P02", "missing"),
        ("sheets.2024-002.P01", "missing"),
        ("sheets.2024-002.P02", "missing"),
    }
    assert review_round.collect_events() == []


def test_the_trimmed_mean_drops_the_highest_and_lowest_and_records_what_counted_and_why() -> None:
    campaign, review_round = round_of(FIVE, n=5)
    ids = {
        r: file(review_round, campaign, S1, r, t)
        for r, t in zip(FIVE, (70, 88, 86, 95, 84), strict=True)
    }
    review_round.collect_events()

    review_round.aggregate_scores(SEC)

    [aggregated] = review_round.collect_events()
    assert isinstance(aggregated, ReviewRound.ScoresAggregated)
    result = aggregated.results[str(sid(S1))]
    assert result["score"] == Decimal("86.00") == review_round.score(sid(S1))
    assert sorted(result["counted"]) == sorted(str(ids[r]) for r in ("P02", "P03", "P05"))
    assert result["excluded"] == {str(ids["P01"]): "最低分，去掉", str(ids["P04"]): "最高分，去掉"}
    assert (result["rule"], result["version"]) == ("trimmed_mean", AGGREGATION_VERSION)
    assert not review_round.stale


def test_a_corrected_sheet_is_excluded_as_superseded_and_reaggregation_changes_the_score() -> None:
    campaign, review_round = round_of(["P01", "P02", "P03"], aggregation="mean")
    original = file(review_round, campaign, S1, "P01", 70)
    file(review_round, campaign, S1, "P02", 80)
    file(review_round, campaign, S1, "P03", 90)
    review_round.aggregate_scores(SEC)
    assert review_round.score(sid(S1)) == Decimal("80.00")

    correction = file(review_round, campaign, S1, "P01", 79, corrects=original, reason="漏计得分")
    assert review_round.stale
    review_round.aggregate_scores(SEC)

    result = review_round.results[str(sid(S1))]
    assert result["score"] == Decimal("83.00")
    assert str(correction) in result["counted"] and str(original) not in result["counted"]
    assert result["excluded"] == {str(original): "已被更正"}
    assert len(sheet_events(review_round)) == 4  # the original is still in the history


def recorded(review_round: ReviewRound, sheet_ids: Iterable[str]) -> list[Sheet]:
    """The round's sheets of those ids, as the scoring rules take them."""
    return [
        Sheet(
            i,
            review_round.sheets[i]["reviewer"],
            str(review_round.sheets[i]["submission_id"]),
            review_round.sheets[i]["total"],
        )
        for i in sheet_ids
    ]


@pytest.mark.parametrize("rule", ["mean", "trimmed_mean"])
def test_the_recorded_aggregation_inputs_reproduce_the_recorded_score(rule: str) -> None:
    campaign, review_round = round_of(FIVE, serials=(S1, S2), n=5, aggregation=rule)
    totals = {S1: ("70", "88", "86", "95", "84"), S2: ("60.5", "77", "91", "82.25", "79")}
    for serial, points in totals.items():
        for reviewer, total in zip(FIVE, points, strict=True):
            file(review_round, campaign, serial, reviewer, total)
    first = review_round.current[f"{sid(S1)}/P03"]
    file(review_round, campaign, S1, "P03", "99.5", corrects=UUID(first), reason="复核")

    review_round.aggregate_scores(SEC)

    [aggregated] = review_round.collect_events()[-1:]
    assert isinstance(aggregated, ReviewRound.ScoresAggregated)
    assert aggregated.results[str(sid(S1))]["excluded"][first] == "已被更正"
    for result in aggregated.results.values():
        counted = recorded(review_round, result["counted"])
        trimmed = {i: why for i, why in result["excluded"].items() if why != "已被更正"}
        # The counted sheets average to the score; with those trimmed, the rule picks them again.
        assert aggregate("mean", counted).score == result["score"]
        again = aggregate(result["rule"], counted + recorded(review_round, trimmed))
        assert (again.score, sorted(again.counted), again.excluded) == (
            result["score"],
            sorted(result["counted"]),
            trimmed,
        )


# Closing.


def test_a_round_closes_only_on_fresh_aggregated_scores() -> None:
    campaign, review_round = round_of(["P01"])
    with pytest.raises(ReviewConflict) as never_aggregated:
        review_round.close(SEC)
    sheet = file(review_round, campaign, S1, "P01", 80)
    review_round.aggregate_scores(SEC)
    file(review_round, campaign, S1, "P01", 82, corrects=sheet, reason="复核")
    with pytest.raises(ReviewConflict) as stale:
        review_round.close(SEC)
    review_round.aggregate_scores(SEC)
    review_round.collect_events()

    review_round.close(SEC)

    assert rules_of(never_aggregated) == rules_of(stale) == {("round", "not_aggregated")}
    assert [type(e) for e in review_round.collect_events()] == [ReviewRound.Closed]
    assert review_round.closed


def test_a_round_does_not_close_while_a_reviewer_assigned_after_aggregation_has_not_filed() -> None:
    campaign, review_round = round_of(["P01"])
    file(review_round, campaign, S1, "P01", 80)
    review_round.aggregate_scores(SEC)
    review_round.assign(sid(S1), panelist("P02"), ON, SEC)

    with pytest.raises(ReviewConflict) as refusal:
        review_round.close(SEC)

    assert ("sheets.2024-001.P02", "missing") in rules_of(refusal)
    assert not review_round.closed


def test_a_closed_round_takes_no_more_commands() -> None:
    campaign, review_round = round_of(["P01"], serials=(S1, S2))
    sheet = file(review_round, campaign, S1, "P01", 80)
    file(review_round, campaign, S2, "P01", 80)
    review_round.aggregate_scores(SEC)
    review_round.close(SEC)
    review_round.collect_events()

    refusals = []
    for command in (
        lambda: review_round.assign(sid(S1), panelist("P02"), ON, SEC),
        lambda: review_round.assign_automatically([panelist("P02")], ON, SEC),
        lambda: review_round.release(sid(S1), "P01", "出差", SEC),
        lambda: file(review_round, campaign, S1, "P01", 90, corrects=sheet, reason="复核"),
        lambda: review_round.aggregate_scores(SEC),
        lambda: review_round.close(SEC),
    ):
        with pytest.raises(ReviewConflict) as refusal:
            command()
        refusals.append(rules_of(refusal))

    assert refusals == [{("round", "closed")}] * 6
    assert review_round.collect_events() == []


def test_scores_are_not_aggregated_while_a_submission_has_no_reviewer() -> None:
    review_round = a_round(a_campaign(PLAN), [entrant(S1), entrant(S2)])
    for cert in ("P01", "P02", "P03"):
        review_round.assign(sid(S1), panelist(cert), ON, SEC)

    with pytest.raises(ReviewConflict) as refusal:
        review_round.aggregate_scores(SEC)

    assert ("assignments.2024-002", "unassigned") in rules_of(refusal)
    assert review_round.collect_events() and not review_round.results
