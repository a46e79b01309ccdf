"""A statistics table's enterprise list may itemise single enterprises' figures: each must be
listed, given once, valid for the programme, and together no more than the table's totals."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from aggregates.campaign import Programme
from aggregates.statistics_table import (
    EnterpriseItem,
    QcFigures,
    StatisticsForm,
    TeamFiguresTable,
    form_from_state,
)
from tests.unit.test_statistics_rollup import code, qc


def half(**values: int) -> QcFigures:
    """Half of each of `qc()`'s figures (two of them fill the table), with `values` set."""
    halved = {k: v / 2 if isinstance(v, Decimal) else v // 2 for k, v in vars(qc()).items()}
    return replace(QcFigures(**halved), **values)


def form(*items: EnterpriseItem) -> StatisticsForm:
    return StatisticsForm(enterprises=[code(1), code(2)], figures=qc(), itemised=list(items))


def rules(f: StatisticsForm) -> set[tuple[str, str]]:
    return {(p.field, p.rule) for p in f.problems(Programme.QC_GROUP)}


def test_itemised_enterprises_within_the_totals_are_accepted_and_round_trip() -> None:
    items = (
        EnterpriseItem(code(1), half(employees=600, participants=100), name="甲公司"),
        EnterpriseItem(code(2), half(employees=400, participants=300)),
    )
    filed = form(*items)
    assert rules(filed) == set()
    assert form_from_state(Programme.QC_GROUP, filed.to_state()) == filed


def test_a_table_recorded_before_itemisation_reads_with_none() -> None:
    state = form().to_state()
    del state["itemised"]
    assert form_from_state(Programme.QC_GROUP, state).itemised == []


def test_itemised_enterprises_must_be_listed_once_and_valid() -> None:
    found = rules(
        form(
            EnterpriseItem(code(9), half()),
            EnterpriseItem(code(1), half(employees=10, participants=50)),
            EnterpriseItem(code(1), half()),
            EnterpriseItem(code(2), TeamFiguresTable(1, 1, 1, 1, Decimal(0), Decimal(0))),
        )
    )
    assert {
        ("itemised[0].credit_code", "listed"),
        ("itemised[1].figures.participants", "le_employees"),
        ("itemised[2].credit_code", "unique"),
        ("itemised[3].figures", "wrong_programme"),
    } <= found


def test_itemised_figures_may_not_add_up_to_more_than_the_table() -> None:
    big = half(employees=800, participants=100)
    found = rules(form(EnterpriseItem(code(1), big), EnterpriseItem(code(2), big)))
    assert ("itemised.employees", "le_total") in found
    assert ("itemised.participants", "le_total") not in found
