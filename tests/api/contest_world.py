"""A campaign brought to its presentation contest (发表赛) through the ledger's commands: a plan
of one material round (one reviewer each, mean) and the contest (four judges each, trimmed mean),
every given result passed formal review, the material round scored, aggregated and closed, the
contest opened for them all and each given judge assigned to every entrant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from aggregates.actor import Actor, Role
from aggregates.campaign import Phase
from aggregates.ledger.application import AssociationLedger
from aggregates.review_plan import GradeBand, ReviewPlan, RoundPlan
from aggregates.review_round import ReviewRound
from aggregates.scoring import DEFAULT_RUBRICS

SECRETARIAT = Actor("test-secretariat", Role.SECRETARIAT)
CONTEST = "contest"
PRESENTATION_RUBRIC = DEFAULT_RUBRICS["presentation"]


@dataclass
class Contest:
    campaign_id: UUID
    judges: list[str]
    order: list[str]
    """The entrants' submission ids in the running order."""

    def round(self, ledger: AssociationLedger) -> ReviewRound:
        return ledger.get_round(self.campaign_id, CONTEST)


def criteria_for(total: int) -> dict[str, str]:
    """Scores of the presentation rubric adding up to `total` (0–100), each within its maximum."""
    left = total
    scores = {}
    for name, top in PRESENTATION_RUBRIC.items():
        given = min(top, left)
        scores[name] = str(given)
        left -= given
    return scores


def prepare_contest(
    ledger: AssociationLedger,
    clock: Any,
    campaign_id: UUID,
    submissions: list[UUID],
    material_reviewer: str,
    judges: list[str],
) -> Contest:
    campaign = ledger.get_campaign(campaign_id)
    grades = set(ledger.facts.grade_names(campaign.programme))
    first = sorted(grades)[0]
    plan = ReviewPlan(
        rounds=(
            RoundPlan("initial", "初评", reviewers_per_submission=1, aggregation="mean"),
            RoundPlan("contest", "发表赛", kind="presentation", reviewers_per_submission=4),
        ),
        bands=(GradeBand(first, min_score=Decimal(60)),),
    )
    ledger.plan_review(campaign_id, plan, grades, SECRETARIAT)
    timeline = campaign.timeline
    clock.now = timeline[Phase.FORMAL_REVIEW].opens_at + timedelta(hours=10)
    met = dict.fromkeys(plan.checklist, True)
    for s in submissions:
        ledger.review_formally(s, "pass", met, "", [], SECRETARIAT)
    clock.now = timeline[Phase.MATERIAL_REVIEW].opens_at + timedelta(hours=10)
    ledger.open_round(campaign_id, "initial", None, None, SECRETARIAT)
    ledger.assign_automatically(campaign_id, "initial", [material_reviewer], SECRETARIAT)
    material = ledger.get_round(campaign_id, "initial")
    reviewer = Actor("test-reviewer", Role.REVIEWER)
    for key, entrant in material.entrants.items():
        rubric = material.rubrics[entrant["rubric"]]
        ledger.file_sheet(
            campaign_id,
            "initial",
            submission_id=UUID(key),
            reviewer=material_reviewer,
            criteria={name: Decimal(top) * Decimal("0.8") for name, top in rubric.items()},
            comment="",
            corrects=None,
            reason="",
            actor=reviewer,
        )
    ledger.aggregate_round(campaign_id, "initial", SECRETARIAT)
    ledger.close_round(campaign_id, "initial", SECRETARIAT)
    presentation = timeline.get(Phase.PRESENTATION)
    if presentation is not None and presentation.opens_at is not None:
        clock.now = presentation.opens_at + timedelta(hours=10)
    contest = ledger.open_round(campaign_id, CONTEST, None, None, SECRETARIAT)
    for key in contest.entrants:
        for judge in judges:
            ledger.assign_reviewer(campaign_id, CONTEST, UUID(key), judge, SECRETARIAT)
    opened = ledger.get_round(campaign_id, CONTEST)
    return Contest(campaign_id, judges, [str(e["submission_id"]) for e in opened.running_order()])
