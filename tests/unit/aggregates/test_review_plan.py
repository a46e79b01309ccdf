"""The review plan (评审方案): its rules, its round trip through plain state, and setting it on a
campaign."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from aggregates.campaign import Campaign, CampaignConflict, InvalidCampaign
from aggregates.review_plan import DEFAULT_CHECKLIST, GradeBand, ReviewPlan, RoundPlan
from aggregates.scoring import DEFAULT_RUBRICS
from tests.unit.aggregates.review_support import (
    GRADES,
    IN_MATERIAL,
    PLANNED_AT,
    SCORE_BANDS,
    SEC,
    a_campaign,
    rules_of,
)

BY_SCORE = ReviewPlan(bands=SCORE_BANDS)
BY_RANK = ReviewPlan(
    grading="rank",
    bands=(GradeBand("first", quota=3), GradeBand("second", quota=10)),
)
THE_WORKS = ReviewPlan(
    checklist=("盖章申报表齐全", "成果报告齐全"),
    rounds=(
        RoundPlan("initial", "初评", reviewers_per_submission=5, aggregation="mean"),
        RoundPlan("contest", "发表赛", kind="presentation", aggregation="zscore"),
    ),
    presentation_weight=Decimal("0.35"),
    grading="score",
    bands=(
        GradeBand("first", Decimal("90.5"), quota=5, requires_presentation=True),
        GradeBand("second", Decimal(80), requires_video=True),
    ),
    domain_quotas={"制造": {"first": 2}, "服务": {"first": 1, "second": 4}},
    rubrics={"team": dict(DEFAULT_RUBRICS["team"]), "presentation": {"内容": 60, "表达": 40}},
)


def problems_of(plan: ReviewPlan, score_max: int = 100) -> set[tuple[str, str]]:
    return {(p.field, p.rule) for p in plan.problems(set(GRADES), score_max)}


def test_the_default_plan_has_the_usual_checklist_and_two_material_rounds_but_no_grades() -> None:
    plan = ReviewPlan()

    assert plan.checklist == DEFAULT_CHECKLIST
    assert [(r.code, r.kind, r.reviewers_per_submission) for r in plan.rounds] == [
        ("initial", "material", 3),
        ("final", "material", 3),
    ]
    assert plan.rubrics == DEFAULT_RUBRICS
    assert problems_of(plan) == {("bands", "required")}


def test_a_plan_by_score_lines_and_a_plan_by_rank_quotas_are_both_sound() -> None:
    assert problems_of(BY_SCORE) == set()
    assert problems_of(BY_RANK) == set()
    assert problems_of(THE_WORKS) == set()


def test_the_plan_round_trips_through_its_plain_state() -> None:
    state = THE_WORKS.to_state()

    assert isinstance(state["rounds"][0], dict) and isinstance(state["bands"][0], dict)
    assert ReviewPlan.from_state(state) == THE_WORKS
    assert ReviewPlan.from_state(ReviewPlan().to_state()) == ReviewPlan()


def test_the_plain_state_is_a_copy_that_does_not_share_the_plans_dicts() -> None:
    state = THE_WORKS.to_state()
    state["domain_quotas"]["制造"]["first"] = 99
    state["rubrics"]["team"]["荣誉与评价"] = 0

    assert THE_WORKS.domain_quotas["制造"]["first"] == 2
    assert THE_WORKS.rubrics["team"]["荣誉与评价"] == 10


def test_rounds_and_bands_are_found_by_their_code() -> None:
    assert THE_WORKS.round("contest") == THE_WORKS.rounds[1]
    assert THE_WORKS.round("final") is None
    assert THE_WORKS.band("second") == THE_WORKS.bands[1]
    assert THE_WORKS.band("third") is None


@pytest.mark.parametrize("checklist", [(), ("盖章申报表齐全", "  ")], ids=["empty", "blank item"])
def test_the_checklist_needs_items_with_content(checklist: tuple[str, ...]) -> None:
    assert problems_of(replace(BY_SCORE, checklist=checklist)) == {("checklist", "required")}


def test_a_plan_without_a_material_round_is_refused() -> None:
    contest_only = (RoundPlan("contest", "发表赛", kind="presentation"),)

    assert problems_of(replace(BY_SCORE, rounds=())) == {("rounds", "required")}
    assert problems_of(replace(BY_SCORE, rounds=contest_only)) == {("rounds", "required")}


def test_round_codes_are_unique_and_there_is_at_most_one_contest() -> None:
    twice = (RoundPlan("initial", "初评"), RoundPlan("initial", "复评"))
    two_contests = (
        RoundPlan("initial", "初评"),
        RoundPlan("contest-a", "发表赛一", kind="presentation"),
        RoundPlan("contest-b", "发表赛二", kind="presentation"),
    )

    assert problems_of(replace(BY_SCORE, rounds=twice)) == {("rounds", "unique")}
    assert problems_of(replace(BY_SCORE, rounds=two_contests)) == {("rounds", "one_presentation")}


@pytest.mark.parametrize(
    ("second_round", "problem"),
    [
        (RoundPlan(" ", "复评"), ("rounds[1]", "required")),
        (RoundPlan("final", ""), ("rounds[1]", "required")),
        (RoundPlan("final", "复评", kind="online"), ("rounds[1].kind", "one_of")),
        (RoundPlan("final", "复评", aggregation="median"), ("rounds[1].aggregation", "one_of")),
        (
            RoundPlan("final", "复评", reviewers_per_submission=0),
            ("rounds[1].reviewers_per_submission", "range"),
        ),
        (
            RoundPlan("final", "复评", reviewers_per_submission=16),
            ("rounds[1].reviewers_per_submission", "range"),
        ),
    ],
    ids=["blank code", "blank name", "kind", "aggregation", "no reviewers", "16 reviewers"],
)
def test_each_round_is_checked_and_named_by_its_position(
    second_round: RoundPlan, problem: tuple[str, str]
) -> None:
    plan = replace(BY_SCORE, rounds=(RoundPlan("initial", "初评"), second_round))

    assert problems_of(plan) == {problem}


@pytest.mark.parametrize("weight", ["-0.1", "1.01"])
def test_the_presentation_weight_is_a_share_between_0_and_1(weight: str) -> None:
    plan = replace(BY_SCORE, presentation_weight=Decimal(weight))

    assert problems_of(plan) == {("presentation_weight", "range")}


def test_grading_is_by_score_or_by_rank() -> None:
    assert problems_of(replace(BY_SCORE, grading="vote")) == {("grading", "one_of")}


def test_a_band_must_be_one_of_the_tenants_grades() -> None:
    plan = replace(BY_SCORE, bands=(GradeBand("gold", Decimal(95)), *SCORE_BANDS))

    assert problems_of(plan) == {("bands[0].grade", "unknown_grade")}


def test_grading_by_score_needs_a_score_line_within_the_top_score() -> None:
    plan = replace(
        BY_SCORE, bands=(GradeBand("first"), GradeBand("second", Decimal(101)), SCORE_BANDS[2])
    )

    assert problems_of(plan) == {
        ("bands[0].min_score", "required"),
        ("bands[1].min_score", "range"),
    }
    assert problems_of(replace(BY_SCORE, bands=(GradeBand("first", Decimal(-1)),))) == {
        ("bands[0].min_score", "range")
    }


def test_grading_by_rank_needs_a_positive_quota_per_band() -> None:
    plan = replace(BY_RANK, bands=(GradeBand("first"), GradeBand("second", quota=0)))

    assert problems_of(plan) == {("bands[0].quota", "required"), ("bands[1].quota", "positive")}


def test_domain_quotas_name_known_grades_and_are_not_negative() -> None:
    plan = replace(BY_SCORE, domain_quotas={"制造": {"gold": 1, "first": -1, "second": 0}})

    assert problems_of(plan) == {
        ("domain_quotas.制造.gold", "quota"),
        ("domain_quotas.制造.first", "quota"),
    }


def test_every_rubric_must_add_up_to_the_campaigns_top_score() -> None:
    plan = replace(BY_SCORE, rubrics={"team": {"班组基础管理": 20}, "presentation": {}})

    assert problems_of(plan) == {("rubrics.team", "sum"), ("rubrics.presentation", "sum")}
    assert {f for f, rule in problems_of(BY_SCORE, score_max=50) if rule == "sum"} == {
        f"rubrics.{topic}" for topic in DEFAULT_RUBRICS
    }


# On the campaign.


def test_a_campaign_records_the_plan_as_plain_state_and_reads_it_back() -> None:
    campaign = a_campaign()

    campaign.plan_review(THE_WORKS, set(GRADES), PLANNED_AT, SEC)

    [planned] = campaign.collect_events()
    assert isinstance(planned, Campaign.ReviewPlanned)
    assert planned.plan == THE_WORKS.to_state()
    assert (planned.actor_id, planned.actor_role) == ("sec-wang", "secretariat")
    assert campaign.review_plan == THE_WORKS


def test_a_campaign_without_a_plan_reads_the_default_one() -> None:
    assert a_campaign().review_plan == ReviewPlan()


def test_a_campaign_refuses_a_plan_that_breaks_a_rule_and_records_nothing() -> None:
    campaign = a_campaign()

    with pytest.raises(InvalidCampaign) as refusal:
        campaign.plan_review(ReviewPlan(), set(GRADES), PLANNED_AT, SEC)

    assert rules_of(refusal) == {("bands", "required")}
    assert campaign.collect_events() == []


def test_the_plan_cannot_change_once_material_review_has_opened() -> None:
    campaign = a_campaign(BY_SCORE)

    with pytest.raises(CampaignConflict) as refusal:
        campaign.plan_review(BY_RANK, set(GRADES), IN_MATERIAL, SEC)

    assert rules_of(refusal) == {("plan", "review_started")}
    assert campaign.review_plan == BY_SCORE
