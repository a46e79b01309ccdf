"""The result forms' field rules in the browser's place (the test client): each bad field of the
QC form and of the team form is shown beside the field in zh-CN and en, the team form keeps the
bad value in its input, and the result's version stays as it was (the forms' journeys:
test_portal_forms.py).

Every case is a refused save, which changes nothing, so the cases of a module share one app, one
applicant unit signed in through the sign-in page and one draft per form, built once per module
on each backend (`module_anonymous`); a case whose save is accepted must not be added here."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_asyncio

from aggregates.actor import Role
from tests.api.test_portal_forms import (
    EN,
    ICBC,
    Client,
    Desk,
    beside,
    open_campaign,
    qc_fields,
    signed_in,
    team_fields,
)

pytestmark = [pytest.mark.tenants("saq"), pytest.mark.asyncio(loop_scope="module")]

Draft = tuple[Desk, str]
"""A form's desk, and the id of the complete draft result at it."""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def drafts(module_anonymous: Client) -> dict[str, Draft]:
    """saq's 2024 QC and team campaigns (the module's business time is within their windows),
    an applicant unit signed in through the sign-in page, and a complete draft of each form."""
    campaigns = {p: await open_campaign(module_anonymous, p) for p in ("qc_group", "team")}
    token = await signed_in(module_anonymous, Role.APPLICANT_UNIT, ICBC)
    qc = Desk(module_anonymous, campaigns["qc_group"], token)
    team = Desk(module_anonymous, campaigns["team"], token)
    return {
        "qc": (qc, await qc.draft(qc_fields())),
        "team": (team, await team.draft(team_fields())),
    }


QC_BAD = [
    ("group_name", {"group_name": "组" * 201}, "不得超过 200 字", "At most 200 characters"),
    ("group_size", {"group_size": "六"}, "应为整数", "A whole number"),
    ("group_size", {"group_size": "1001"}, "人数超出允许范围", None),
    ("topic_name", {"topic_name": "题" * 201}, "不得超过 200 字", "At most 200 characters"),
    ("industry", {"industry": "业" * 101}, "不得超过 100 字", "At most 100 characters"),
    ("topic_type", {"topic_type": "other"}, "请从列表中选择", "Choose one of the list"),
    (
        "members",
        {"members": [f"成员{i}" for i in range(11)]},
        "小组成员名单至多 10 人",
        "At most 10 members",
    ),
    ("members[0]", {"members": ["名" * 201]}, "不得超过 200 字", "At most 200 characters"),
    ("intro", {"intro": "字" * 1201}, "简介不得超过 1200 字", "At most 1200 characters"),
]


@pytest.mark.parametrize(
    ("field", "change", "zh", "en"), QC_BAD, ids=[f"{c[0]}-{i}" for i, c in enumerate(QC_BAD)]
)
async def test_each_bad_field_of_the_qc_form_is_shown_beside_it_and_nothing_is_stored(
    drafts: dict[str, Draft], field: str, change: dict[str, Any], zh: str, en: str | None
) -> None:
    d, submission_id = drafts["qc"]
    before = d.version(submission_id)
    refused = await d.post(submission_id, qc_fields(**change, action="save"))
    assert refused.status_code == 422, refused.text
    assert zh in beside(refused.text, field)
    english = await d.post(submission_id, qc_fields(**change, action="save"), **EN)
    assert english.status_code == 422
    if en is not None:
        assert en in beside(english.text, field)
    assert d.version(submission_id) == before


TEAM_BAD = [
    ("team_name", {"team_name": "班" * 201}, "不得超过 200 字", "At most 200 characters"),
    ("team_name", {"team_name": "一车间"}, "不应以车间命名", "not a workshop"),
    ("team_size", {"team_size": "十二"}, "应为整数", "A whole number"),
    ("team_size", {"team_size": "501"}, "人数超出允许范围", None),
    ("leader", {"leader": "王" * 51}, "不得超过 50 字", "At most 50 characters"),
    *[
        (f"figures.{name}", {f"figures.{name}": "百"}, "应为数字", "A number")
        for name in (
            "work_completion_pct",
            "quality_pass_pct",
            "nonconformity_pct",
            "first_pass_yield_pct",
            "participation_pct",
            "quality_cost_10k",
            "creation_coverage_pct",
        )
    ],
    *[
        (f"figures.{name}", {f"figures.{name}": "100.5"}, "百分比应在 0 至 100 之间", "0 to 100")
        for name in ("work_completion_pct", "first_pass_yield_pct", "creation_coverage_pct")
    ],
    *[
        (f"figures.{name}", {f"figures.{name}": "1.5"}, "应为整数", "A whole number")
        for name in ("accidents", "complaints", "training_people", "training_hours")
    ],
    ("figures.complaints", {"figures.complaints": "-1"}, "不能为负数", "Cannot be negative"),
    ("figures.quality_cost_10k", {"figures.quality_cost_10k": "-3"}, "不能为负数", "negative"),
    (
        "figures.nonconformity_pct",
        {"figures.nonconformity_pct": "1"},
        "合格率与不合格率之和不能超过 100%",
        "cannot exceed 100%",
    ),
    (
        "sections",
        {f"sections[{i}]": "字" * 900 for i in range(6)},
        "六部分合计不得超过 5000 字",
        "5000",
    ),
]


@pytest.mark.parametrize(
    ("field", "change", "zh", "en"), TEAM_BAD, ids=[f"{c[0]}-{i}" for i, c in enumerate(TEAM_BAD)]
)
async def test_each_bad_field_of_the_team_form_is_shown_beside_it_and_nothing_is_stored(
    drafts: dict[str, Draft], field: str, change: dict[str, Any], zh: str, en: str | None
) -> None:
    d, submission_id = drafts["team"]
    before = d.version(submission_id)
    refused = await d.post(submission_id, team_fields(**change, action="save"))
    assert refused.status_code == 422, refused.text
    assert zh in beside(refused.text, field)
    assert 'value="' + change.get(field, "")[:20] in refused.text or field == "sections"
    english = await d.post(submission_id, team_fields(**change, action="save"), **EN)
    assert english.status_code == 422
    if en is not None:
        assert en in beside(english.text, field)
    assert d.version(submission_id) == before
