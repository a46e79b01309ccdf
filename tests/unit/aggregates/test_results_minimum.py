"""The least number of results per applicant unit, read from the submission register: who is
below it, and a refusal only when the campaign makes it blocking."""

from __future__ import annotations

from uuid import uuid4

import pytest

from aggregates.campaign import Campaign, CampaignRules
from aggregates.submission import InvalidSubmission
from aggregates.submission_register import (
    SubmissionRegister,
    below_minimum,
    check_results_minimum,
    results_count,
)
from tests.unit.aggregates.test_campaign import given_campaign

A, B = "91310000000000001X", "91310000000000002X"


def filed(campaign: Campaign, *codes: str) -> SubmissionRegister:
    register = SubmissionRegister.open(campaign)
    for code in codes:
        register.assign(campaign, uuid4(), code, None)
    return register


def test_the_units_below_the_minimum_are_those_that_filed_fewer() -> None:
    campaign = given_campaign(
        rules=CampaignRules(results_per_applicant_min=2, distinct_topic_types=False)
    )
    register = filed(campaign, A, B, B)
    assert [(c.credit_code, c.results, c.minimum) for c in below_minimum(campaign, register)] == [
        (A, 1, 2)
    ]
    assert results_count(campaign, register, B).met
    assert below_minimum(campaign, None) == []  # nothing filed: nobody is on the register


def test_below_the_minimum_is_refused_only_when_the_campaign_makes_it_blocking() -> None:
    shown = given_campaign(rules=CampaignRules(results_per_applicant_min=2))
    check_results_minimum(shown, filed(shown, A), A)  # only shown
    blocking = given_campaign(
        rules=CampaignRules(results_per_applicant_min=2, results_per_applicant_min_blocking=True)
    )
    with pytest.raises(InvalidSubmission) as refusal:
        check_results_minimum(blocking, filed(blocking, A), A)
    (problem,) = refusal.value.problems
    assert (problem.field, problem.rule) == ("results_per_applicant_min", "below_minimum")
    check_results_minimum(blocking, filed(blocking, A, A), A)
