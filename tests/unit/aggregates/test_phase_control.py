"""Phase control on the campaign: close now, open now, reopen, reschedule an open phase, the
dependency rule between phases, the grading window and publication that needs grading."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from aggregates.campaign import (
    Campaign,
    CampaignConflict,
    InvalidCampaign,
    Phase,
    Takes,
    Window,
    dependents_of,
    depends_on,
)
from aggregates.review_plan import GradeBand, ReviewPlan
from tests.unit.aggregates.test_campaign import SEC, bj, by_secretariat, given_campaign, rules_of

REG, SUB, REC = Phase.REGISTRATION, Phase.SUBMISSION, Phase.RECOMMENDATION
FORMAL, MATERIAL, GRADING = Phase.FORMAL_REVIEW, Phase.MATERIAL_REVIEW, Phase.GRADING
NOTICE, PUBLICATION = Phase.PUBLIC_NOTICE, Phase.PUBLICATION
WHY = "最后一个推荐单位已报送"
AFTER, BESIDE = Takes.AFTER, Takes.BESIDE


def season() -> dict[Phase, Window]:
    """Shanghai-like: filing side by side until June, then the review stages one after another."""
    return {
        REG: Window(bj(2020, 2, 1), bj(2020, 5, 1)),
        SUB: Window(bj(2020, 2, 1), bj(2020, 5, 1)),
        REC: Window(bj(2020, 3, 1), bj(2020, 6, 1)),
        FORMAL: Window(bj(2020, 6, 1), bj(2020, 6, 15)),
        MATERIAL: Window(bj(2020, 6, 15), bj(2020, 8, 1)),
        GRADING: Window(bj(2020, 8, 20), bj(2020, 9, 1)),
        NOTICE: Window(bj(2020, 9, 1), bj(2020, 9, 8)),
        PUBLICATION: Window(bj(2020, 9, 8), bj(2020, 10, 1)),
    }


def a_season() -> Campaign:
    return given_campaign(timeline=season())


def test_the_dependency_rule_passes_through_unscheduled_phases() -> None:
    everything = list(Phase)
    assert depends_on(FORMAL, everything) == {SUB: AFTER, REC: AFTER}
    assert depends_on(SUB, everything) == {REG: BESIDE}
    assert depends_on(REG, everything) == {}
    assert depends_on(NOTICE, everything) == {GRADING: AFTER}
    without_grading = [p for p in everything if p not in (GRADING, Phase.PRESENTATION)]
    assert depends_on(NOTICE, without_grading) == {MATERIAL: AFTER}
    without_recommendation = [p for p in everything if p is not REC]
    assert depends_on(FORMAL, without_recommendation) == {SUB: AFTER}
    assert dependents_of(SUB, season()) == {REC: BESIDE, FORMAL: AFTER}
    assert dependents_of(NOTICE, season()) == {PUBLICATION: AFTER}


def test_submission_closed_early_records_the_deadline_it_replaced() -> None:
    campaign = a_season()
    at = bj(2020, 4, 20, 10)
    with pytest.raises(CampaignConflict) as refused:  # groups still registering could not file
        campaign.close_phase_now(SUB, WHY, at, SEC)
    assert rules_of(refused) == {("phase", "depends_on_open")}
    assert "报名" in refused.value.problems[0].message
    campaign.close_phase_now(REG, WHY, at, SEC)
    campaign.collect_events()

    campaign.close_phase_now(SUB, f" {WHY} ", at, SEC)

    [closed] = campaign.collect_events()
    assert isinstance(closed, Campaign.PhaseClosedNow)
    assert (closed.phase, closed.previous_closes_at, closed.closes_at) == (SUB, bj(2020, 5, 1), at)
    assert closed.reason == WHY and by_secretariat(closed)
    assert campaign.phase_state(SUB, at) == "closed"
    assert campaign.phase_state(REC, at) == "open"


def test_formal_review_opens_now_once_submission_and_recommendation_have_closed() -> None:
    campaign = a_season()
    at = bj(2020, 5, 20, 9)
    campaign.close_phase_now(REG, WHY, bj(2020, 4, 20), SEC)
    campaign.close_phase_now(SUB, WHY, bj(2020, 4, 20), SEC)

    with pytest.raises(CampaignConflict) as refused:
        campaign.open_phase_now(FORMAL, WHY, at, SEC)
    assert rules_of(refused) == {("phase", "depends_on_open")}
    assert "成果推荐" in refused.value.problems[0].message

    campaign.close_phase_now(REC, WHY, at, SEC)
    campaign.open_phase_now(FORMAL, WHY, at + timedelta(seconds=1), SEC)

    *_, opened = campaign.collect_events()
    assert isinstance(opened, Campaign.PhaseOpenedNow)
    assert (opened.previous_opens_at, opened.previous_closes_at) == (
        bj(2020, 6, 1),
        bj(2020, 6, 15),
    )
    assert (opened.opens_at, opened.closes_at) == (at + timedelta(seconds=1), bj(2020, 6, 15))
    assert campaign.open_phases(at + timedelta(seconds=1)) == [FORMAL]


def test_a_notice_runs_for_exactly_its_days_when_opened_now_with_its_close() -> None:
    campaign = a_season()
    at = bj(2020, 8, 25, 10)
    campaign.close_phase_now(GRADING, "等级已认定", at, SEC)

    campaign.open_phase_now(NOTICE, "公示七天", at, SEC, closes_at=at + timedelta(days=7))

    assert campaign.window(NOTICE) == Window(at, at + timedelta(days=7))


def test_a_closing_phase_cannot_close_before_what_it_depends_on() -> None:
    campaign = a_season()
    campaign.reschedule_phase(FORMAL, Window(bj(2020, 5, 10), bj(2020, 6, 15)), bj(2020, 5, 2), SEC)

    with pytest.raises(CampaignConflict) as refused:
        campaign.close_phase_now(FORMAL, WHY, bj(2020, 5, 12), SEC)

    assert rules_of(refused) == {("phase", "depends_on_open")}


OPEN_NOW_REFUSALS = {
    "running": (SUB, bj(2020, 3, 1), None, "phase already_opened"),
    "closed": (SUB, bj(2020, 5, 2), None, "phase already_closed"),
    "no reason": (NOTICE, bj(2020, 8, 25), None, "reason required"),
    "unscheduled without close": (Phase.PROMOTION, bj(2020, 9, 9), None, "closes_at required"),
    "close in the past": (FORMAL, bj(2020, 6, 16), None, "phase already_closed"),
}


@pytest.mark.parametrize(
    ("phase", "at", "closes_at", "problem"), OPEN_NOW_REFUSALS.values(), ids=OPEN_NOW_REFUSALS
)
def test_open_now_refusals(
    phase: Phase, at: datetime, closes_at: datetime | None, problem: str
) -> None:
    campaign = a_season()
    reason = "" if "reason" in problem else WHY
    with pytest.raises((CampaignConflict, InvalidCampaign)) as refused:
        campaign.open_phase_now(phase, reason, at, SEC, closes_at)
    assert rules_of(refused) == {tuple(problem.split())}
    assert campaign.collect_events() == []


def test_open_now_needs_a_close_after_now() -> None:
    campaign = given_campaign(
        timeline={**season(), FORMAL: Window(bj(2020, 6, 1), bj(2020, 6, 15))}
    )
    for phase in (REG, SUB, REC):
        campaign.close_phase_now(phase, WHY, bj(2020, 4, 1), SEC)
    with pytest.raises(InvalidCampaign) as refused:
        campaign.open_phase_now(FORMAL, WHY, bj(2020, 4, 2), SEC, bj(2020, 4, 1))
    assert rules_of(refused) == {("closes_at", "in_future")}


CLOSE_NOW_REFUSALS = {
    "not yet open": (FORMAL, bj(2020, 3, 1), "phase not_opened"),
    "already closed": (REG, bj(2020, 5, 2), "phase already_closed"),
    "unscheduled": (Phase.PRESENTATION, bj(2020, 3, 1), "phase not_scheduled"),
}


@pytest.mark.parametrize(
    ("phase", "at", "problem"), CLOSE_NOW_REFUSALS.values(), ids=CLOSE_NOW_REFUSALS
)
def test_close_now_refusals(phase: Phase, at: datetime, problem: str) -> None:
    campaign = a_season()
    with pytest.raises((CampaignConflict, InvalidCampaign)) as refused:
        campaign.close_phase_now(phase, WHY, at, SEC)
    assert rules_of(refused) == {tuple(problem.split())}


def test_close_now_needs_a_reason() -> None:
    with pytest.raises(InvalidCampaign) as refused:
        a_season().close_phase_now(SUB, " ", bj(2020, 3, 1), SEC)
    assert rules_of(refused) == {("reason", "required")}


def test_a_closed_phase_is_reopened_with_a_reason_until_the_next_phase_opens() -> None:
    campaign = a_season()
    at = bj(2020, 5, 3)

    campaign.reopen_phase(SUB, bj(2020, 5, 10, 17), "系统故障，补报", at, SEC)

    [reopened] = campaign.collect_events()
    assert isinstance(reopened, Campaign.PhaseReopened)
    assert (reopened.previous_closes_at, reopened.closes_at) == (
        bj(2020, 5, 1),
        bj(2020, 5, 10, 17),
    )
    assert campaign.phase_state(SUB, at) == "open"


REOPEN_REFUSALS = {
    # The case of the issue: a registration closed long ago reopened for years.
    "registration long after submission closed": (
        REG,
        bj(2024, 5, 10),
        bj(2026, 12, 1),
        "phase dependent_started",
    ),
    "long after its dependents started": (
        SUB,
        bj(2022, 1, 1),
        bj(2026, 12, 1),
        "phase dependent_started",
    ),
    "formal review started": (REC, bj(2020, 6, 2), bj(2020, 6, 10), "phase dependent_started"),
    "past the next opening": (SUB, bj(2020, 5, 3), bj(2020, 6, 2), "until before_dependent"),
    "still open": (SUB, bj(2020, 3, 1), bj(2020, 5, 10), "phase not_closed"),
    "not yet open": (FORMAL, bj(2020, 3, 1), bj(2020, 6, 20), "phase not_closed"),
    "until in the past": (SUB, bj(2020, 5, 3), bj(2020, 5, 2), "until in_future"),
}


@pytest.mark.parametrize(
    ("phase", "at", "until", "problem"), REOPEN_REFUSALS.values(), ids=REOPEN_REFUSALS
)
def test_reopen_refusals(phase: Phase, at: datetime, until: datetime, problem: str) -> None:
    campaign = a_season()
    with pytest.raises((CampaignConflict, InvalidCampaign)) as refused:
        campaign.reopen_phase(phase, until, WHY, at, SEC)
    assert rules_of(refused) == {tuple(problem.split())}
    assert campaign.collect_events() == []


def test_extend_no_longer_reopens_a_closed_phase() -> None:
    campaign = a_season()
    with pytest.raises(CampaignConflict) as refused:
        campaign.extend_deadline(REG, bj(2026, 12, 1), "再报名", bj(2024, 5, 10), SEC)
    assert rules_of(refused) == {("phase", "already_closed")}


def test_an_open_phase_can_be_rescheduled_keeping_its_start() -> None:
    campaign = a_season()
    at = bj(2020, 3, 10)

    campaign.reschedule_phase(SUB, Window(None, bj(2020, 4, 20)), at, SEC)

    assert campaign.window(SUB) == Window(bj(2020, 2, 1), bj(2020, 4, 20))
    with pytest.raises(InvalidCampaign) as moved:
        campaign.reschedule_phase(SUB, Window(bj(2020, 3, 20), bj(2020, 4, 20)), at, SEC)
    assert rules_of(moved) == {("opens_at", "already_opened")}
    with pytest.raises(InvalidCampaign) as past:
        campaign.reschedule_phase(SUB, Window(bj(2020, 2, 1), bj(2020, 3, 1)), at, SEC)
    assert rules_of(past) == {("closes_at", "in_future")}


def test_publication_is_refused_without_grading_when_the_plan_grades() -> None:
    campaign = given_campaign()  # no grading phase: the plan alone says it grades
    campaign.publish_results(bj(2020, 11, 2), SEC)  # no bands yet: published as it was
    campaign = given_campaign()
    campaign.plan_review(
        ReviewPlan(bands=(GradeBand("first", min_score=Decimal(80)),)),
        {"first"},
        bj(2020, 1, 10),
        SEC,
    )
    with pytest.raises(CampaignConflict) as refused:
        campaign.publish_results(bj(2020, 11, 2), SEC)
    assert rules_of(refused) == {("grading", "not_graded")}

    campaign.publish_results(bj(2020, 11, 2), SEC, graded=True)
    assert campaign.status == "published"


def test_grading_runs_in_its_window_when_scheduled() -> None:
    campaign = a_season()
    with pytest.raises(CampaignConflict) as refused:
        campaign.check_stage(GRADING, bj(2020, 7, 21))
    assert rules_of(refused) == {("phase", "window_closed")}
    campaign.check_stage(GRADING, bj(2020, 8, 21))
    given_campaign().check_stage(GRADING, bj(2020, 7, 21))  # not scheduled: any time


def test_registration_reopens_while_submission_runs_but_not_past_its_close() -> None:
    campaign = a_season()
    at = bj(2020, 4, 1)
    campaign.close_phase_now(REG, WHY, bj(2020, 3, 1), SEC)
    with pytest.raises(InvalidCampaign) as refused:
        campaign.reopen_phase(REG, bj(2020, 5, 2), "补报名", at, SEC)
    assert rules_of(refused) == {("until", "before_dependent")}
    assert "成果申报" in refused.value.problems[0].message

    campaign.reopen_phase(REG, bj(2020, 5, 1), "补报名", at, SEC)

    assert campaign.phase_state(REG, at) == "open"
