"""The live contest on its round: who is on stage (the running order by serial, next after the
one on stage), the presentation's time, the scores released only once every judge has filed,
and the presentation's score by the round's rule (the trimmed mean drops the highest and the
lowest); a paper sheet entered by the secretariat is marked as such."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aggregates.campaign import Campaign
from aggregates.review_plan import ReviewPlan
from aggregates.review_round import InvalidReview, ReviewConflict, ReviewRound
from tests.unit.aggregates.review_support import (
    IN_PRESENTATION,
    SCORE_BANDS,
    SEC,
    a_campaign,
    a_round,
    assign_all,
    entrant,
    file,
    rules_of,
    sid,
)

JUDGES = ["J1", "J2", "J3", "J4"]
SERIALS = ("2024-003", "2024-001", "2024-002")


def contest() -> tuple[Campaign, ReviewRound]:
    campaign = a_campaign(ReviewPlan(bands=SCORE_BANDS))
    review_round = a_round(
        campaign,
        [entrant(s, rubric="presentation") for s in SERIALS],
        code="contest",
        kind="presentation",
        n=4,
    )
    return campaign, assign_all(review_round, JUDGES)


def test_the_running_order_is_by_serial_and_next_follows_the_one_on_stage() -> None:
    _, review_round = contest()
    assert [e["serial"] for e in review_round.running_order()] == sorted(SERIALS)
    assert review_round.on_stage() is None
    assert review_round.after_on_stage() == sid("2024-001")

    review_round.call_presenter(sid("2024-001"), 900, IN_PRESENTATION, SEC)
    [called] = review_round.collect_events()
    assert isinstance(called, ReviewRound.PresenterCalled)
    assert (called.submission_id, called.seconds, called.at) == (
        sid("2024-001"),
        900,
        IN_PRESENTATION,
    )
    assert review_round.on_stage() == {
        "submission_id": str(sid("2024-001")),
        "seconds": 900,
        "at": IN_PRESENTATION,
    }
    assert review_round.after_on_stage() == sid("2024-002")
    review_round.call_presenter(sid("2024-003"), 900, IN_PRESENTATION, SEC)
    assert review_round.after_on_stage() is None


def test_a_presentation_time_out_of_range_or_a_material_round_is_refused() -> None:
    _, review_round = contest()
    with pytest.raises(InvalidReview) as refused:
        review_round.call_presenter(sid("2024-001"), 30, IN_PRESENTATION, SEC)
    assert rules_of(refused) == {("minutes", "range")}
    campaign = a_campaign(ReviewPlan(bands=SCORE_BANDS))
    material = a_round(campaign, [entrant("2024-001")])
    with pytest.raises(ReviewConflict) as refused:
        material.call_presenter(sid("2024-001"), 600, IN_PRESENTATION, SEC)
    assert rules_of(refused) == {("round", "not_a_contest")}


def test_scores_are_released_once_every_judge_has_filed_with_the_extremes_dropped() -> None:
    campaign, review_round = contest()
    first = sid("2024-001")
    review_round.call_presenter(first, 900, IN_PRESENTATION, SEC)
    for judge, total in zip(JUDGES[:3], (91, 84, 77), strict=True):
        file(review_round, campaign, "2024-001", judge, total, at=IN_PRESENTATION)
    with pytest.raises(ReviewConflict) as refused:
        review_round.release_scores(first, SEC)
    assert rules_of(refused) == {("submission_id", "sheets_missing")}
    review_round.file_sheet(
        campaign,
        sheet_id=sid("paper"),
        submission_id=first,
        reviewer="J4",
        criteria={
            "内容": Decimal(30),
            "表达": Decimal(20),
            "回答问题": Decimal(15),
            "时间控制": Decimal(5),
        },
        comment="",
        corrects=None,
        reason="",
        at=IN_PRESENTATION,
        actor=SEC,
    )
    assert review_round.sheets[str(sid("paper"))]["entered_by"] == "secretariat"
    review_round.collect_events()

    review_round.release_scores(first, SEC)
    [released] = review_round.collect_events()
    assert isinstance(released, ReviewRound.ScoresReleased) and released.submission_id == first
    assert review_round.released() == [str(first)]
    scored = review_round.presentation_score(first)
    assert scored.score == Decimal("80.50")  # (84 + 77) / 2: 91 and 70 dropped
    assert sorted(scored.excluded.values()) == ["最低分，去掉", "最高分，去掉"]
    with pytest.raises(ReviewConflict) as refused:
        review_round.release_scores(first, SEC)
    assert rules_of(refused) == {("submission_id", "already_released")}
