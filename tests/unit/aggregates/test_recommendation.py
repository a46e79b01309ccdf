"""A recommendation form changed in bulk: an entry revised keeps its rank; a form imported from a
file goes through the form's own commands, refused whole with every row's problems named."""

from __future__ import annotations

from decimal import Decimal
from uuid import uuid4

import pytest

from aggregates.actor import Actor, Role
from aggregates.campaign import CampaignRules
from aggregates.recommendation import (
    Candidate,
    InvalidRecommendation,
    Recommendation,
    Reviewer,
    SheetLine,
)
from tests.unit.aggregates.test_campaign import JULY, given_campaign

UNIT = Actor("unit-account", Role.RECOMMENDING_UNIT)
ZHOU = Reviewer("周敏", "上海电气集团股份有限公司", "CAQ-QC-2019-0312", "13601234567")
LI = Reviewer("李华", "上海质量管理科学研究院", "CAQ-QC-2021-0088", "13912345678")


def candidate(credit_code: str = "91100000100003962T") -> Candidate:
    return Candidate(uuid4(), credit_code, "pudong", submitted=True)


def a_form(*candidates: Candidate, **rules: object) -> tuple[Recommendation, object]:
    campaign = given_campaign(rules=CampaignRules(**rules))  # type: ignore[arg-type]
    form = Recommendation.start(campaign, "pudong", UNIT)
    form.add_reviewer(campaign, ZHOU, JULY, UNIT)
    for n, c in enumerate(candidates):
        form.add_entry(campaign, c, Decimal(80 + n), "好", ZHOU.certificate_number, JULY, UNIT)
    form.collect_events()
    return form, campaign


def line(
    row: int, c: Candidate, score: str, reviewer: Reviewer = ZHOU, evaluation: str = "好"
) -> SheetLine:
    return SheetLine(row, c, Decimal(score), evaluation, reviewer.certificate_number)


def test_a_revised_entry_keeps_its_rank() -> None:
    first, second = candidate(), candidate("91310000132260250X")
    form, campaign = a_form(first, second)
    form.revise_entry(campaign, first, Decimal(95), "更好", ZHOU.certificate_number, JULY, UNIT)  # type: ignore[arg-type]
    assert [e["submission_id"] for e in form.entries] == [first.submission_id, second.submission_id]
    assert form.entries[0]["score"] == Decimal(95)


def test_an_imported_file_replaces_roster_entries_and_order_by_the_forms_commands() -> None:
    first, second, third = candidate(), candidate(), candidate("91310000132260250X")
    form, campaign = a_form(first, second)
    roster = [(20, ZHOU), (21, LI)]
    form.import_sheet(
        campaign,
        roster,
        [line(5, third, "90", LI, "创新点突出。"), line(7, first, "80")],
        JULY,
        UNIT,
    )  # type: ignore[arg-type]
    assert [e["submission_id"] for e in form.entries] == [third.submission_id, first.submission_id]
    assert [r["certificate_number"] for r in form.reviewers] == [
        "CAQ-QC-2019-0312",
        "CAQ-QC-2021-0088",
    ]
    kinds = [type(e).__name__ for e in form.collect_events()]
    assert kinds == ["EntryRemoved", "ReviewerAdded", "EntryAdded", "Reordered"]  # the first kept


def test_a_file_with_bad_rows_is_refused_whole_naming_each_row() -> None:
    first, second = candidate(), candidate()
    form, campaign = a_form(first, **{"recommendations_per_applicant_max": 5})
    bad_reviewer = Reviewer("王五", "某单位", "X-1", "0213")
    with pytest.raises(InvalidRecommendation) as refused:
        form.import_sheet(
            campaign,  # type: ignore[arg-type]
            [(20, ZHOU), (21, bad_reviewer)],
            [line(5, second, "120"), line(7, first, "80"), line(9, first, "81")],
            JULY,
            UNIT,
        )
    assert {(p.field, p.rule) for p in refused.value.problems} == {
        ("row21.reviewer.mobile", "mobile_format"),
        ("row5.score", "range"),
        ("row9.submission_id", "already_listed"),
    }
    assert all(p.message.startswith("第 ") for p in refused.value.problems)
