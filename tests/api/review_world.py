"""A Shanghai-style QC campaign ready for review, built through the API: 8 recommending units, 40
submissions, recommendation forms with their panels, and a pool of 12 reviewers, some of whom
sat on a unit's panel, work for an applicant, or declared a conflict."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from litestar.testing import AsyncTestClient

from aggregates.actor import Role
from aggregates.credit_code import check_character
from aggregates.scoring import DEFAULT_RUBRICS
from tests.api.conftest import sign_in
from tests.api.test_submissions import PDF, qc_result

Client = AsyncTestClient[Any]
SAQ = "/api/v1/tenants/saq"
UNITS = ("huangpu", "xuhui", "changning", "jingan", "putuo", "hongkou", "yangpu", "pudong")
DOMAINS = ("制造", "市场服务", "非营利性服务")
VIDEO = b"\x00\x00\x00\x20ftypisom" + b"\x00" * 2000


def window(opens: str, closes: str) -> dict[str, str]:
    return {"opens_at": f"{opens}T00:00:00+08:00", "closes_at": f"{closes}T22:00:00+08:00"}


CAMPAIGN = {
    "programme": "qc_group",
    "year": 2024,
    "title": "2024年上海市质量管理小组活动成果交流",
    "contact": {"person": "杨瑾", "phone": "021-52588838"},
    "period_start": "2023-01-01",
    "period_end": "2023-12-31",
    "rules": {
        "results_per_applicant_min": 1,
        "results_per_applicant_max": None,
        "distinct_topic_types": False,
        "recommendations_per_applicant_max": None,
    },
    "timeline": {
        "submission": window("2024-01-01", "2024-03-01"),
        "recommendation": window("2024-01-01", "2024-03-01"),
        "formal_review": window("2024-03-02", "2024-03-15"),
        "material_review": window("2024-03-16", "2024-04-30"),
        "presentation": window("2024-05-01", "2024-05-20"),
        "public_notice": window("2024-05-25", "2024-06-01"),
        "publication": window("2024-06-02", "2024-06-30"),
    },
}

PLAN = {
    "rounds": [
        {"code": "initial", "name_zh": "初评", "reviewers_per_submission": 4},
        {"code": "final", "name_zh": "复评", "reviewers_per_submission": 4},
        {
            "code": "contest",
            "name_zh": "发表赛",
            "kind": "presentation",
            "reviewers_per_submission": 5,
        },
    ],
    "presentation_weight": "0.4",
    "grading": "score",
    "bands": [
        {
            "grade": "benchmark",
            "min_score": "80",
            "quota": 4,
            "requires_presentation": True,
            "requires_video": True,
        },
        {"grade": "excellent", "min_score": "70", "quota": 12},
        {"grade": "promotion", "min_score": "55"},
    ],
    "domain_quotas": {"非营利性服务": {"benchmark": 1}},
}


def credit_code(n: int) -> str:
    first17 = f"91310000{n:09d}"
    return first17 + check_character(first17)


@dataclass
class Entry:
    submission_id: str
    serial: str
    unit: str
    credit_code: str
    unit_name: str
    topic_type: str
    domain: str
    quality: Decimal
    """How good it is (0–1): every reviewer scores near this, each with their own bias."""


@dataclass
class Expert:
    number: str
    name: str
    work_unit: str
    work_unit_credit_code: str | None
    bias: Decimal
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class World:
    client: Client
    campaign_id: str
    entries: list[Entry]
    experts: list[Expert]
    applicants: dict[str, dict[str, str]]
    """Session headers per applicant credit code."""

    @property
    def base(self) -> str:
        return f"{SAQ}/campaigns/{self.campaign_id}"

    def entry(self, submission_id: str) -> Entry:
        return next(e for e in self.entries if e.submission_id == submission_id)

    def expert(self, number: str) -> Expert:
        return next(x for x in self.experts if x.number == number)

    def criteria(self, rubric: str, quality: Decimal, bias: Decimal) -> dict[str, str]:
        level = min(max(quality + bias, Decimal(0)), Decimal(1))
        return {
            name: str((weight * level * 2).quantize(Decimal(1), rounding=ROUND_HALF_UP) / 2)
            for name, weight in DEFAULT_RUBRICS[rubric].items()
        }


def experts() -> list[Expert]:
    """12 reviewers. Conflicts: 01 sat on huangpu's panel; 02 works for applicant 0's unit (by
    credit code); 03 works for applicant 3 (by name); 04 declares a conflict with xuhui; the
    rest are free. Their biases spread from severe to lenient."""
    pool = []
    for i in range(1, 13):
        pool.append(
            Expert(
                number=f"SQA-QC-2023-{i:04d}",
                name=f"评委{i:02d}",
                work_unit=f"上海质量研究院第{i}研究室",
                work_unit_credit_code=None,
                bias=Decimal(i - 6) / Decimal(200),
            )
        )
    pool[1].work_unit_credit_code = credit_code(0)
    pool[2].work_unit = "申报单位3股份有限公司"
    return pool


async def build(client: Client, units: tuple[str, ...] = UNITS) -> World:
    opened = await client.post(f"{SAQ}/campaigns", json=CAMPAIGN)
    assert opened.status_code == 201, opened.text
    campaign_id = opened.json()["id"]
    planned = await client.put(f"{SAQ}/campaigns/{campaign_id}/review-plan", json=PLAN)
    assert planned.status_code == 200, planned.text

    pool = experts()
    for x in pool:
        body = {
            "name": x.name,
            "work_unit": x.work_unit,
            "work_unit_credit_code": x.work_unit_credit_code,
            "mobile": "13900000000",
            "certificate": {
                "kind": "上海市QC小组评审员",
                "number": x.number,
                "issuing_body": "上海市质量协会",
                "level": "评审组长" if x.number.endswith("1") else "评审员",
                "valid_until": "2026-12-31",
            },
        }
        enrolled = await client.post(f"{SAQ}/experts", json=body)
        assert enrolled.status_code == 201, enrolled.text
        x.headers = await sign_in(client, "saq", Role.REVIEWER, x.number)
    declared = await client.post(
        f"{SAQ}/experts/{pool[3].number}/conflicts",
        json={"kind": "recommending_unit", "value": "xuhui", "reason": "曾在徐汇区质协兼职"},
        headers=pool[3].headers,
    )
    assert declared.status_code == 201, declared.text

    entries: list[Entry] = []
    applicants: dict[str, dict[str, str]] = {}
    n = 0
    for u, unit in enumerate(units):
        unit_headers = await sign_in(client, "saq", Role.RECOMMENDING_UNIT, unit)
        roster = pool[0] if unit == "huangpu" else None
        panel_member = {
            "name": roster.name if roster else f"{unit}评委",
            "work_unit": "区质量协会",
            "certificate_kind": "上海市QC小组评审员",
            "certificate_number": roster.number if roster else f"{unit.upper()}-QC-0001",
            "mobile": "13700000000",
        }
        form = f"{SAQ}/campaigns/{campaign_id}/units/{unit}/recommendation"
        added = await client.post(f"{form}/reviewers", json=panel_member, headers=unit_headers)
        assert added.status_code == 200, added.text
        for a in range(2):  # two applicant units per recommending unit, 3 and 2 results
            applicant_no = u * 2 + a
            code = credit_code(applicant_no)
            headers = await sign_in(client, "saq", Role.APPLICANT_UNIT, code)
            applicants[code] = headers
            unit_name = f"申报单位{applicant_no}股份有限公司"
            domain = DOMAINS[applicant_no % len(DOMAINS)]
            for k in range(3 - a):
                topic_type = ("problem_solving", "innovative")[k % 2]
                body = qc_result(
                    topic_type,
                    group_name=f"{unit_name}第{k + 1}QC小组",
                    topic_name=f"提高第{n + 1}号工序一次合格率",
                )
                body["recommending_unit"] = unit
                block = {"unit_name": unit_name, "key_domain": domain, "key_industries": ["金融"]}
                drafted = await client.post(
                    f"{SAQ}/campaigns/{campaign_id}/submissions",
                    json={**body, "applicant": block},
                    headers=headers,
                )
                assert drafted.status_code == 201, drafted.text
                submission_id = drafted.json()["id"]
                for kind in ("application_form", "report", "evidence"):
                    uploaded = await client.post(
                        f"{SAQ}/submissions/{submission_id}/attachments/{kind}",
                        params={"name": f"{kind}.pdf"},
                        content=PDF + kind.encode() + submission_id.encode(),
                        headers={**headers, "content-type": "application/octet-stream"},
                    )
                    assert uploaded.status_code == 201, uploaded.text
                submitted = await client.post(
                    f"{SAQ}/submissions/{submission_id}/submit", headers=headers
                )
                assert submitted.status_code == 200, submitted.text
                recommended = await client.post(
                    f"{form}/entries",
                    json={
                        "submission_id": submission_id,
                        "score": "85",
                        "evaluation": "问题分析透彻，对策有效。",
                        "reviewer": panel_member["certificate_number"],
                    },
                    headers=unit_headers,
                )
                assert recommended.status_code == 200, recommended.text
                entries.append(
                    Entry(
                        submission_id=submission_id,
                        serial=submitted.json()["serial"],
                        unit=unit,
                        credit_code=code,
                        unit_name=unit_name,
                        topic_type=topic_type,
                        domain=domain,
                        # Distinct qualities, interleaved across units.
                        quality=Decimal("0.50") + Decimal((n * 17) % 40) / Decimal(100),
                    )
                )
                n += 1
        declared_form = await client.post(
            f"{form}/declaration",
            json={"filled_by": "陈静", "phone": "021-58881234"},
            headers=unit_headers,
        )
        assert declared_form.status_code == 200, declared_form.text
        filed = await client.post(f"{form}/file", headers=unit_headers)
        assert filed.status_code == 200, filed.text
    assert len(entries) == 5 * len(units)
    return World(client, campaign_id, entries, pool, applicants)
