"""A review round: opening it, and who reviews what — by hand or automatically, never with a
conflict of interest, and with the reasons each reviewer was left out. (Score sheets, aggregation
and closing: test_review_sheets.py.)"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date, timedelta
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregates.campaign import CampaignConflict
from aggregates.expert import Certificate, Expert, ExpertProfile
from aggregates.review_plan import ReviewPlan, RoundPlan
from aggregates.review_round import (
    InvalidReview,
    Panelist,
    ReviewConflict,
    ReviewRound,
)
from tests.unit.aggregates.review_support import (
    ON,
    SCORE_BANDS,
    SEC,
    a_campaign,
    a_round,
    assign_all,
    credit_code,
    entrant,
    entrants,
    panelist,
    pool,
    rules_of,
    sid,
)

PLAN = ReviewPlan(bands=SCORE_BANDS)
S1 = "2024-001"
ENTRANT = entrant(S1, unit="济南钢铁集团有限公司", recommending="济南市质量协会")


def assigned(review_round: ReviewRound) -> dict[str, list[str]]:
    return {
        review_round.entrants[key]["serial"]: list(reviewers)
        for key, reviewers in review_round.assignments.items()
    }


# Opening.


def test_opening_records_the_entrants_and_only_the_rubrics_they_need() -> None:
    campaign = a_campaign(PLAN)
    team = entrant("2024-002", rubric="innovative")

    review_round = ReviewRound.open(
        campaign, RoundPlan("initial", "初评", reviewers_per_submission=5), [ENTRANT, team], SEC
    )

    [opened] = review_round.collect_events()
    assert isinstance(opened, ReviewRound.Opened)
    assert opened.originator_id == ReviewRound.create_id(campaign.id, "initial")
    assert (opened.code, opened.kind, opened.aggregation) == ("initial", "material", "trimmed_mean")
    assert opened.reviewers_per_submission == 5
    assert [e["serial"] for e in opened.entrants] == [S1, "2024-002"]
    assert set(opened.rubrics) == {"problem_solving", "innovative"}
    assert assigned(review_round) == {S1: [], "2024-002": []}
    assert (review_round.results, review_round.stale, review_round.closed) == ({}, False, False)


def test_a_round_needs_entrants() -> None:
    with pytest.raises(InvalidReview) as refusal:
        ReviewRound.open(a_campaign(PLAN), RoundPlan("initial", "初评"), [], SEC)

    assert rules_of(refusal) == {("entrants", "required")}


def test_a_round_needs_a_rubric_of_the_plan_for_every_entrant() -> None:
    with pytest.raises(InvalidReview) as refusal:
        ReviewRound.open(
            a_campaign(PLAN), RoundPlan("initial", "初评"), [entrant(S1, rubric="sports")], SEC
        )

    assert rules_of(refusal) == {("rubrics.sports", "required")}


def test_an_archived_campaign_opens_no_round() -> None:
    campaign = a_campaign(PLAN)
    campaign.archive("活动取消", SEC)

    with pytest.raises(CampaignConflict):
        ReviewRound.open(campaign, RoundPlan("initial", "初评"), [ENTRANT], SEC)


# Assignment by hand.


def test_assigning_by_hand_records_the_reviewer_and_how() -> None:
    review_round = a_round(a_campaign(PLAN), [ENTRANT])

    review_round.assign(sid(S1), panelist("P01"), ON, SEC)

    [event] = review_round.collect_events()
    assert isinstance(event, ReviewRound.ReviewerAssigned)
    assert (event.submission_id, event.reviewer, event.reviewer_name) == (sid(S1), "P01", "评委P01")
    assert (event.how, event.excluded) == ("manual", {})
    assert assigned(review_round) == {S1: ["P01"]}


CONFLICTED = {
    "own unit by name": (
        panelist("P09", unit=" 济南钢铁集团有限公司 "),
        "本人工作单位的成果（回避）",
    ),
    "own unit by credit code": (
        panelist("P09", unit="济钢集团", credit=ENTRANT.credit_code),
        "本人工作单位的成果（回避）",
    ),
    "sat on the recommending unit's panel": (
        panelist("P09", panels={"济南市质量协会"}),
        "曾任推荐单位“济南市质量协会”评审组成员（回避）",
    ),
    "declared: the applicant": (
        panelist("P09", conflicts=[("applicant", ENTRANT.credit_code, "曾任该单位顾问")]),
        "本人申报回避：曾任该单位顾问",
    ),
    "declared: the recommending unit": (
        panelist("P09", conflicts=[("recommending_unit", "济南市质量协会", "现任该会理事")]),
        "本人申报回避：现任该会理事",
    ),
    "declared: the submission": (
        panelist("P09", conflicts=[("submission", str(sid(S1)), "指导过该课题")]),
        "本人申报回避：指导过该课题",
    ),
    "expired certificate": (
        panelist("P09", valid_until=ON - timedelta(days=1)),
        "评审证书有效期至 2024-06-14，已过期",
    ),
    "retired": (panelist("P09", retired=True), "已退出专家库"),
}


@pytest.mark.parametrize(("reviewer", "reason"), CONFLICTED.values(), ids=CONFLICTED)
def test_a_conflicted_reviewer_is_never_assigned_even_by_hand(
    reviewer: Panelist, reason: str
) -> None:
    review_round = a_round(a_campaign(PLAN), [ENTRANT])

    with pytest.raises(ReviewConflict) as refusal:
        review_round.assign(sid(S1), reviewer, ON, SEC)

    assert [(p.field, p.rule, p.message) for p in refusal.value.problems] == [
        ("certificate_number", "conflict_of_interest", reason)
    ]
    assert review_round.collect_events() == []
    assert assigned(review_round) == {S1: []}


def as_panelist(expert: Expert) -> Panelist:
    """The expert as the review service hands them to a round (no panels)."""
    profile = expert.profile
    return panelist(
        expert.certificate_number,
        unit=profile["work_unit"],
        credit=profile["work_unit_credit_code"],
        valid_until=profile["certificate"]["valid_until"],
        retired=expert.retired_reason is not None,
        conflicts=[(c["kind"], c["value"], c["reason"]) for c in expert.conflicts],
    )


def test_codes_typed_in_lower_case_or_full_width_still_keep_the_expert_from_the_work() -> None:
    typed = ENTRANT.credit_code.lower()
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in ENTRANT.credit_code)
    certificate = Certificate(
        "QC 小组评审员", "SDQC-7", "山东省质量评价协会", "省级", date(2027, 1, 1)
    )
    own_unit = Expert.enrol(
        "sdaq", ExpertProfile("王强", "济钢集团", f" {typed} ", "13900000000", certificate), SEC
    )
    declared = Expert.enrol(
        "sdaq",
        ExpertProfile(
            "李娜", "山东大学", None, "13900000001", replace(certificate, number="SDQC-8")
        ),
        SEC,
    )
    declared.declare_conflict("applicant", full_width, "近三年在该单位任职", SEC)
    review_round = a_round(a_campaign(PLAN), [ENTRANT])

    for expert, reason in (
        (own_unit, "本人工作单位的成果（回避）"),
        (declared, "本人申报回避：近三年在该单位任职"),
    ):
        with pytest.raises(ReviewConflict) as refusal:
            review_round.assign(sid(S1), as_panelist(expert), ON, SEC)
        assert refusal.value.problems[0].message == reason


def test_a_certificate_is_valid_through_its_last_day() -> None:
    review_round = a_round(a_campaign(PLAN), [ENTRANT])

    review_round.assign(sid(S1), panelist("P01", valid_until=ON), ON, SEC)

    assert assigned(review_round) == {S1: ["P01"]}


def test_a_conflict_with_another_submission_or_unit_does_not_bar_the_reviewer() -> None:
    review_round = a_round(a_campaign(PLAN), [ENTRANT])
    elsewhere = panelist(
        "P01",
        unit="山东钢铁集团",
        credit=credit_code(99),
        panels={"青岛市质量协会"},
        conflicts=[
            ("submission", str(sid("2024-099")), "指导过该课题"),
            ("recommending_unit", "青岛市质量协会", "理事"),
            ("applicant", "91110000100010433L", "顾问"),
        ],
    )

    review_round.assign(sid(S1), elsewhere, ON, SEC)

    assert assigned(review_round) == {S1: ["P01"]}


def test_a_reviewer_is_assigned_to_a_submission_once() -> None:
    review_round = assign_all(a_round(a_campaign(PLAN), [ENTRANT]), ["P01"])

    with pytest.raises(ReviewConflict) as refusal:
        review_round.assign(sid(S1), panelist("P01"), ON, SEC)

    assert rules_of(refusal) == {("certificate_number", "already_assigned")}


def test_only_a_submission_in_the_round_is_assigned() -> None:
    review_round = a_round(a_campaign(PLAN), [ENTRANT])

    with pytest.raises(ReviewConflict) as refusal:
        review_round.assign(sid("2024-099"), panelist("P01"), ON, SEC)

    assert rules_of(refusal) == {("submission_id", "not_in_round")}


# Automatic assignment.


def test_automatic_assignment_gives_every_submission_its_n_reviewers_with_balanced_load() -> None:
    review_round = a_round(a_campaign(PLAN), entrants(7), n=3)

    made = review_round.assign_automatically(pool(5), ON, SEC)

    events = review_round.collect_events()
    assert made == len(events) == 21
    assert all(e.how == "auto" for e in events if isinstance(e, ReviewRound.ReviewerAssigned))
    assert all(len(set(r)) == 3 for r in review_round.assignments.values())
    load = Counter(r for reviewers in review_round.assignments.values() for r in reviewers)
    assert set(load) == {f"P{i:02d}" for i in range(1, 6)}
    assert max(load.values()) - min(load.values()) <= 1


def test_automatic_assignment_tops_up_and_counts_the_load_of_assignments_by_hand() -> None:
    review_round = a_round(a_campaign(PLAN), entrants(2), n=2)
    review_round.assign(sid("2024-001"), panelist("P01"), ON, SEC)
    review_round.assign(sid("2024-002"), panelist("P01"), ON, SEC)
    review_round.collect_events()

    made = review_round.assign_automatically(pool(3), ON, SEC)

    assert made == 2
    assert {r for reviewers in review_round.assignments.values() for r in reviewers[1:]} == {
        "P02",
        "P03",
    }
    assert review_round.assign_automatically(pool(3), ON, SEC) == 0


def test_automatic_assignment_never_picks_a_conflicted_reviewer_and_records_why() -> None:
    first = entrant("2024-001", unit="济南钢铁集团有限公司")
    second = entrant("2024-002", recommending="青岛市质量协会")
    reviewers = [
        *pool(3),
        panelist("X-UNIT", unit="济南钢铁集团有限公司"),
        panelist("X-PANEL", panels={"青岛市质量协会"}),
        panelist("X-OLD", valid_until=date(2024, 1, 1)),
    ]
    review_round = a_round(a_campaign(PLAN), [first, second], n=4)

    review_round.assign_automatically(reviewers, ON, SEC)

    events = [
        e for e in review_round.collect_events() if isinstance(e, ReviewRound.ReviewerAssigned)
    ]
    assert "X-UNIT" not in review_round.assignments[str(first.submission_id)]
    assert "X-PANEL" not in review_round.assignments[str(second.submission_id)]
    assert all("X-OLD" not in r for r in review_round.assignments.values())
    excluded = {e.submission_id: e.excluded for e in events}
    assert excluded[first.submission_id] == {
        "X-UNIT": "本人工作单位的成果（回避）",
        "X-OLD": "评审证书有效期至 2024-01-01，已过期",
    }
    assert excluded[second.submission_id] == {
        "X-PANEL": "曾任推荐单位“青岛市质量协会”评审组成员（回避）",
        "X-OLD": "评审证书有效期至 2024-01-01，已过期",
    }
    assert review_round.exclusions == {str(k): v for k, v in excluded.items()}


def test_automatic_assignment_is_all_or_nothing_when_reviewers_are_short() -> None:
    review_round = a_round(a_campaign(PLAN), entrants(3), n=3)
    reviewers = [
        *pool(2),
        panelist("P03", conflicts=[("submission", str(sid("2024-002")), "指导")]),
    ]

    with pytest.raises(ReviewConflict) as refusal:
        review_round.assign_automatically(reviewers, ON, SEC)

    assert [(p.field, p.rule) for p in refusal.value.problems] == [
        ("submissions.2024-002", "not_enough_reviewers")
    ]
    assert "需 3 人，无利益冲突的仅 2 人" in refusal.value.problems[0].message
    assert review_round.collect_events() == []
    assert all(r == [] for r in review_round.assignments.values())


@settings(max_examples=60, deadline=None)
@given(
    submissions=st.integers(min_value=1, max_value=8),
    n=st.integers(min_value=1, max_value=4),
    reviewers=st.integers(min_value=1, max_value=9),
    conflicts=st.sets(st.tuples(st.integers(1, 9), st.integers(1, 8)), max_size=12),
)
def test_whatever_the_pool_no_assignment_has_a_conflict_and_a_shortfall_assigns_nobody(
    submissions: int, n: int, reviewers: int, conflicts: set[tuple[int, int]]
) -> None:
    barred = {(f"P{p:02d}", sid(f"2024-{s:03d}")) for p, s in conflicts}
    the_pool = [
        panelist(
            f"P{p:02d}",
            conflicts=[("submission", str(s), "申报回避") for c, s in barred if c == f"P{p:02d}"],
        )
        for p in range(1, reviewers + 1)
    ]
    review_round = a_round(a_campaign(PLAN), entrants(submissions), n=n)

    try:
        made = review_round.assign_automatically(the_pool, ON, SEC)
    except ReviewConflict:
        assert review_round.collect_events() == []
        assert all(r == [] for r in review_round.assignments.values())
        return
    assert made == submissions * n
    for key, chosen in review_round.assignments.items():
        assert len(set(chosen)) == n
        assert not any((c, UUID(key)) in barred for c in chosen)
    if not barred:
        load = Counter(r for chosen in review_round.assignments.values() for r in chosen)
        loads = [load.get(p.certificate_number, 0) for p in the_pool]
        assert max(loads) - min(loads) <= 1


# Release.


def test_releasing_a_reviewer_records_why_and_frees_the_place() -> None:
    review_round = assign_all(a_round(a_campaign(PLAN), [ENTRANT]), ["P01", "P02"])

    review_round.release(sid(S1), "P01", " 临时出差 ", SEC)

    [released] = review_round.collect_events()
    assert isinstance(released, ReviewRound.ReviewerReleased)
    assert (released.reviewer, released.reason) == ("P01", "临时出差")
    assert assigned(review_round) == {S1: ["P02"]}


def test_releasing_needs_an_assigned_reviewer_and_a_reason() -> None:
    review_round = assign_all(a_round(a_campaign(PLAN), [ENTRANT]), ["P01"])

    with pytest.raises(ReviewConflict) as not_assigned:
        review_round.release(sid(S1), "P02", "临时出差", SEC)
    with pytest.raises(InvalidReview) as no_reason:
        review_round.release(sid(S1), "P01", " ", SEC)

    assert rules_of(not_assigned) == {("certificate_number", "not_assigned")}
    assert rules_of(no_reason) == {("reason", "required")}
    assert review_round.collect_events() == []
