"""A small saq QC campaign in review, built for checking what each account's answers contain:
two applicants filing under two recommending units, a draft of one under the other's unit, a
draft begun by an account under a code it holds no grant for, both units' recommendation forms
and work summaries, two registrations, and two reviewers with sheets on a shared result, the round
aggregated, then one sheet corrected; and, around applicant a's enterprise, a claimant whose
claim awaits verification, a refused claimant (each with a draft of its own under a's code) and a
colleague a invited. Every name, topic, comment and id is distinctive, and `secrets` says which accounts may read each (the rest never may).

The accounts act through the API (sessions opened directly: no password work); every answer
they get while the world is built is kept in `answers`, to be checked like the walk's."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import UUID

from litestar.testing import AsyncTestClient

from aggregates.account import AccountStatus, Grant
from aggregates.actor import Actor, Role
from aggregates.credit_code import check_character
from aggregates.scoring import DEFAULT_RUBRICS
from aggregates.submission_forms import QcResultForm, TopicType
from tests.api.claims_support import claimant, invited_colleague, refuse
from tests.api.published_world import cheap_passwords
from tests.api.review_world import CAMPAIGN, PLAN, window
from tests.api.test_recommendations import SUMMARY
from tests.api.test_submissions import PDF, qc_result
from tests.support import Clock, beijing, new_password

Client = AsyncTestClient[Any]
SAQ = "/api/v1/tenants/saq"
CHECKLIST = {
    "盖章申报表齐全": True,
    "成果报告齐全": True,
    "成果为近两年内取得": True,
    "推荐单位评审组有持证评委": True,
}
EVERYONE_WHO_SEES_ALL = {"secretariat", "auditor"}


def code(n: int) -> str:
    first17 = f"91310000{n:09d}"
    return first17 + check_character(first17)


ACCOUNTS: dict[str, tuple[Role, str | None]] = {
    "secretariat": (Role.SECRETARIAT, None),
    "auditor": (Role.AUDITOR, None),
    "applicant_a": (Role.APPLICANT_UNIT, code(701)),
    "applicant_b": (Role.APPLICANT_UNIT, code(702)),
    "applicant_d": (Role.APPLICANT_UNIT, code(704)),
    "unit_huangpu": (Role.RECOMMENDING_UNIT, "huangpu"),
    "unit_xuhui": (Role.RECOMMENDING_UNIT, "xuhui"),
    "reviewer_1": (Role.REVIEWER, "SQA-QC-2023-7101"),
    "reviewer_2": (Role.REVIEWER, "SQA-QC-2023-7102"),
}
UNFILED_CODE = code(705)
"""The code applicant_d's own draft is under: no account holds a grant for it."""
CLAIMANTS = ("claimant", "refused")
"""Self-registered for applicant_a's credit code: one claim awaits verification, one was refused.
Each reads only its own draft (and the code it typed), never a's records."""
COLLEAGUE = "colleague"
"""Invited by applicant_a through the enterprise invitation route, and accepted: it reads what a
reads."""
SPEAKS_WITH = {"applicant_a": COLLEAGUE}


@dataclass
class RecordWorld:
    client: Client
    clock: Clock
    campaign_id: str = ""
    accounts: dict[str, UUID] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    """Sample path values: submission ids, registration ids, sheet ids by name."""
    secrets: dict[str, set[str]] = field(default_factory=dict)
    """A distinctive text → the accounts that may read it (besides those who see all)."""
    answers: list[tuple[str, str, str]] = field(default_factory=list)
    """(account, what was asked, the answer's body) of every request made while building."""

    def headers(self, account: str) -> dict[str, str]:
        """A fresh bearer session of the account (no sign-in: no password hashing)."""
        app = self.client.app
        now = app.state.platform.tenants["saq"].ledger.clock()
        holder = app.state.platform.tenants["saq"].ledger.get_account(self.accounts[account])
        session_id, expires_at = app.state.auth["saq"].open_session(
            self.accounts[account], holder.session_epoch, now, timedelta(hours=1)
        )
        token = app.state.signer.session_token("saq", session_id, expires_at)
        return {"Authorization": f"Bearer {token}"}

    def secret(self, text: str, *readers: str) -> str:
        colleagues = {SPEAKS_WITH[r] for r in readers if r in SPEAKS_WITH}
        self.secrets[text] = {*readers, *colleagues, *EVERYONE_WHO_SEES_ALL}
        return text

    def forbidden(self, account: str) -> set[str]:
        return {text for text, readers in self.secrets.items() if account not in readers}

    async def call(
        self, account: str, method: str, path: str, status: int = 200, **kwargs: Any
    ) -> Any:
        headers = {**self.headers(account), **kwargs.pop("headers", {})}
        response = await self.client.request(method, f"{SAQ}{path}", headers=headers, **kwargs)
        self.answers.append((account, f"{method} {path}", response.text))
        assert response.status_code == status, (account, method, path, response.text)
        return response.json() if response.content else None


async def build_record_world(client: Client, clock: Clock) -> RecordWorld:
    clock.now = beijing(2024, 1, 15, 9, 30)
    w = RecordWorld(client, clock)
    ledger = client.app.state.platform.tenants["saq"].ledger
    setup = Actor("test-setup", Role.OPERATOR)
    with cheap_passwords(client, "saq"):
        for name, (role, scope) in ACCOUNTS.items():
            account = ledger.register_account(
                login=f"{name}@records.example.cn",
                name=f"{name}用户",
                password=new_password(),
                status=AccountStatus.ACTIVE,
                grants=[Grant(role, scope)],
                actor=setup,
            )
            w.accounts[name] = account.id
    timeline = {**CAMPAIGN["timeline"], "registration": window("2024-01-01", "2024-03-01")}
    campaign = {**CAMPAIGN, "timeline": timeline}
    w.campaign_id = (await w.call("secretariat", "POST", "/campaigns", 201, json=campaign))["id"]
    base = f"/campaigns/{w.campaign_id}"
    await w.call("secretariat", "PUT", f"{base}/review-plan", json=PLAN)

    await _file(w, base)
    await _draft(w, base)
    with cheap_passwords(client, "saq"):
        await _claims(w, base)
    await _review(w, base)
    client.app.state.views["saq"].wait(ledger.recorder.max_notification_id())  # lists read all
    return w


async def _file(w: RecordWorld, base: str) -> None:
    """Two applicants, each filing one result under its unit, which recommends it."""
    filings = [
        ("a", "applicant_a", "huangpu", "unit_huangpu", ("reviewer_1", "reviewer_2")),
        ("b", "applicant_b", "xuhui", "unit_xuhui", ("reviewer_2",)),
    ]
    for letter, applicant, unit, unit_account, reviewers in filings:
        credit_code = ACCOUNTS[applicant][1]
        assert credit_code is not None
        ours = (applicant, unit_account, *reviewers)  # the reviewers it is assigned to
        unit_name = w.secret(f"{letter}字号精密机械有限公司", *ours)
        group = w.secret(f"{letter}字号焊缝攻关QC小组", *ours)
        topic = w.secret(f"降低{letter}字号焊缝返修率", *ours)
        w.secret(credit_code, *ours)
        registration = {
            "unit_name": unit_name,
            "member_unit": True,
            "nature": "国有",
            "key_industries": ["金融"],
            "key_domain": "制造",
            "address": w.secret(f"{letter}字号登记地址某某路{len(letter)}号", applicant),
            "postcode": "200120",
            "managing_department": "质量管理部",
            "promoter": {
                "name": w.secret(f"{letter}字号推进者某某", applicant),
                "department_and_title": "质量管理部 经理",
                "mobile": "13800138000",
                "email": f"{letter}@records.example.cn",
            },
            "intents": ["参加活动申报问题解决型课题"],
        }
        registered = await w.call(
            applicant, "POST", f"{base}/registrations", 201, json=registration
        )
        w.ids[f"registration_{letter}"] = w.secret(registered["id"], applicant)
        body = qc_result(group_name=group, topic_name=topic)
        body["recommending_unit"] = unit
        body["applicant"] = {"unit_name": unit_name, "key_domain": "制造", "key_industries": []}
        drafted = await w.call(applicant, "POST", f"{base}/submissions", 201, json=body)
        sid = drafted["id"]
        w.ids[f"submission_{letter}"] = w.secret(sid, *ours)
        for kind in ("application_form", "report", "evidence"):
            await w.call(
                applicant,
                "POST",
                f"/submissions/{sid}/attachments/{kind}",
                201,
                params={"name": f"{letter}-{kind}.pdf"},
                content=PDF + f"{letter}/{kind}".encode(),
                headers={"content-type": "application/octet-stream"},
            )
        submitted = await w.call(applicant, "POST", f"/submissions/{sid}/submit")
        w.secret(submitted["serial"], *ours)
        form = f"{base}/units/{unit}/recommendation"
        panel = {
            "name": w.secret(f"{unit}推荐评委{letter}某", unit_account),
            "work_unit": "区质量协会",
            "certificate_kind": "上海市QC小组评审员",
            "certificate_number": w.secret(f"{unit.upper()}-PANEL-77{letter}", unit_account),
            "mobile": "13700000000",
        }
        await w.call(unit_account, "POST", f"{form}/reviewers", json=panel)
        entry = {
            "submission_id": sid,
            "score": "85",
            "evaluation": w.secret(f"{unit}单位对{letter}的推荐评语", unit_account),
            "reviewer": panel["certificate_number"],
        }
        await w.call(unit_account, "POST", f"{form}/entries", json=entry)
        declaration = {"filled_by": w.secret(f"{unit}填表人{letter}", unit_account)}
        await w.call(
            unit_account, "POST", f"{form}/declaration", json={**declaration, "phone": "021-1"}
        )
        await w.call(unit_account, "POST", f"{form}/file")
        summary = SUMMARY + w.secret(f"{unit}工作总结独有的一句话", unit_account)
        await w.call(
            unit_account, "PUT", f"{base}/units/{unit}/work-summary", json={"text": summary}
        )


async def _draft(w: RecordWorld, base: str) -> None:
    """b's draft under huangpu: b's own; huangpu sees nothing drafted under it. d's draft under
    a code it holds no grant for: d began it, so it is d's."""
    ledger = w.client.app.state.platform.tenants["saq"].ledger
    draft = qc_result(
        group_name=w.secret("丙字号草稿QC小组", "applicant_b"),
        topic_name=w.secret("丙字号草稿课题尚未提交", "applicant_b"),
    )
    draft["recommending_unit"] = "huangpu"
    draft["applicant"] = {"unit_name": "b字号精密机械有限公司", "key_domain": "制造"}
    drafted = await w.call("applicant_b", "POST", f"{base}/submissions", 201, json=draft)
    w.ids["draft_b"] = w.secret(drafted["id"], "applicant_b")

    own = ledger.draft_submission(
        campaign_id=UUID(w.campaign_id),
        credit_code=w.secret(UNFILED_CODE, "applicant_d"),
        applicant={"unit_name": w.secret("丁字号自建企业有限公司", "applicant_d")},
        recommending_unit="xuhui",
        form=QcResultForm(
            group_name=w.secret("丁字号自建QC小组", "applicant_d"),
            group_size=6,
            topic_name="丁字号自建课题",
            industry="金融业",
            topic_type=TopicType.PROBLEM_SOLVING,
            members=("王芳",),
            intro="小组围绕柜面业务差错开展活动。" * 70,
            commitments=(True, True, True, True),
        ),
        actor=Actor(str(w.accounts["applicant_d"]), Role.APPLICANT_UNIT),
    )[0]
    w.ids["draft_d"] = w.secret(str(own.id), "applicant_d")


async def _claims(w: RecordWorld, base: str) -> None:
    """Two self-registrations for a's credit code, each drafting under it, one then refused; and
    a colleague a invites. What a filed stays a's (and its colleague's)."""
    ledger = w.client.app.state.platform.tenants["saq"].ledger
    credit_code = ACCOUNTS["applicant_a"][1]
    assert credit_code is not None
    for name in CLAIMANTS:
        login = f"{name}@claims.example.cn"
        await claimant(w.client, "saq", credit_code, login, name=f"{name}冒名者")
        account = ledger.find_account(login)
        assert account is not None
        w.accounts[name] = account.id
        w.secrets[credit_code].add(name)  # the code it typed itself
        # The enterprise's own accounts see a draft filed under its code.
        ours = (name, "applicant_a")
        draft = qc_result(
            group_name=w.secret(f"{name}自备草稿QC小组", *ours),
            topic_name=w.secret(f"{name}自备草稿课题", *ours),
        )
        draft["recommending_unit"] = "huangpu"
        draft["applicant"] = {"unit_name": w.secret(f"{name}自称的企业", *ours)}
        drafted = await w.call(name, "POST", f"{base}/submissions", 201, json=draft)
        w.ids[f"draft_{name}"] = w.secret(drafted["id"], *ours)
    await refuse(w.client, "saq", w.headers("secretariat"), "refused@claims.example.cn")
    login = "colleague@claims.example.cn"
    await invited_colleague(
        w.client, "saq", w.headers("applicant_a"), credit_code, login, name="a字号同事赵六"
    )
    account = ledger.find_account(login)
    assert account is not None
    w.accounts[COLLEAGUE] = account.id


async def _review(w: RecordWorld, base: str) -> None:
    """Both pass formal review; reviewer 1 scores a, then reviewer 2 scores a and b."""
    w.clock.now = beijing(2024, 3, 5, 10, 0)
    for letter in ("a", "b"):
        sid = w.ids[f"submission_{letter}"]
        await w.call(
            "secretariat",
            "POST",
            f"/submissions/{sid}/formal-review",
            json={"decision": "pass", "checklist": CHECKLIST},
        )
    for number, (name, reader) in {
        "SQA-QC-2023-7101": ("评委甲一号", "reviewer_1"),
        "SQA-QC-2023-7102": ("评委乙二号", "reviewer_2"),
    }.items():
        expert = {
            "name": w.secret(name, reader),
            "work_unit": w.secret(f"{name}的研究室", reader),
            "mobile": "13900000000",
            "certificate": {
                "kind": "上海市QC小组评审员",
                "number": number,
                "issuing_body": "上海市质量协会",
                "level": "评审员",
                "valid_until": "2026-12-31",
            },
        }
        await w.call("secretariat", "POST", "/experts", 201, json=expert)
    w.clock.now = beijing(2024, 3, 20, 10, 0)
    await w.call("secretariat", "POST", f"{base}/rounds/initial", 201, json={})
    given = [("a", "reviewer_1"), ("a", "reviewer_2"), ("b", "reviewer_2")]
    for letter, reviewer in given:
        number = ACCOUNTS[reviewer][1]
        body = {"submission_id": w.ids[f"submission_{letter}"], "certificate_number": number}
        await w.call("secretariat", "POST", f"{base}/rounds/initial/assignments", json=body)
    # Reviewer 1 files first, so reviewer 2's answers would carry 1's sheet if they leaked.
    for step, (letter, reviewer) in enumerate(given):
        comment = w.secret(f"{reviewer}对{letter}的评语第{step}条", reviewer)
        criteria = {k: str(v - 1 - step) for k, v in DEFAULT_RUBRICS["problem_solving"].items()}
        body = {
            "submission_id": w.ids[f"submission_{letter}"],
            "criteria": criteria,
            "comment": comment,
        }
        filed = await w.call(reviewer, "POST", f"{base}/rounds/initial/sheets", 201, json=body)
        w.ids[f"sheet_{reviewer}_{letter}"] = w.secret(filed["sheet_id"], reviewer)
    # The round's scores are the secretariat's; a reviewer's correction answers its own part.
    aggregated = await w.call("secretariat", "POST", f"{base}/rounds/initial/aggregate")
    for result in aggregated["results"].values():
        w.secret(f'"score":"{result["score"]}"')
    original = w.ids["sheet_reviewer_1_a"]
    correction = {
        "submission_id": w.ids["submission_a"],
        "criteria": {k: str(v - 2) for k, v in DEFAULT_RUBRICS["problem_solving"].items()},
        "comment": w.secret("reviewer_1更正后的评语", "reviewer_1"),
        "corrects": original,
        "reason": w.secret("reviewer_1更正原因某某", "reviewer_1"),
    }
    corrected = await w.call(
        "reviewer_1", "POST", f"{base}/rounds/initial/sheets", 201, json=correction
    )
    w.ids["sheet_reviewer_1_a_corrected"] = w.secret(corrected["sheet_id"], "reviewer_1")
