"""Objections to the public notice (公示) by anyone, without an account: a real name, an e-mail
address confirmed by a code mailed to it (through the outbox, api/platform/mail.py), a phone if they wish.

Two steps, the same for the JSON API and the public notice page. Asking checks the objection as
filing would (nothing stored), counts the attempt (per client address and per e-mail address, as
sign-in does: api/accounts/sign_in.py) and mails a one-time code; the answer carries the objection itself
(`pending`, nothing is kept on the server but the code's digest). Confirming redeems the code,
which is good only for the `pending` it was issued with (the token's subject is derived from it),
and files the objection in the ledger (`file_public_objection`). Decisions: ADR 0041.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from aggregates.actor import Actor, Role
from aggregates.grading import InvalidGrading, public_objector_problems
from aggregates.problems import Problem
from api.accounts.routes import Auth
from api.platform.errors import RequestProblem

PURPOSE = "objection"
CODE_LIFETIME = timedelta(hours=2)
WINDOW = timedelta(hours=1)
MAILS_PER_EMAIL = 3
"""Codes mailed to one address in WINDOW."""
REQUESTS_PER_ADDRESS = 10
"""Objections asked for from one client address in WINDOW."""
CONFIRMATIONS_PER_ADDRESS = 20
"""Codes tried from one client address in WINDOW."""
PENDING_NAMESPACE = uuid5(NAMESPACE_URL, "https://qcflow.cn/ns/public-objection")


@dataclass(frozen=True)
class PendingObjection:
    campaign_id: UUID
    submission_id: UUID
    reasons: str
    name: str
    email: str
    phone: str
    nonce: str

    def encode(self) -> str:
        body = {
            "c": str(self.campaign_id),
            "s": str(self.submission_id),
            "r": self.reasons,
            "n": self.name,
            "e": self.email,
            "p": self.phone,
            "k": self.nonce,
        }
        raw = json.dumps(body, ensure_ascii=False, sort_keys=True).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, pending: str) -> PendingObjection | None:
        try:
            raw = base64.urlsafe_b64decode(pending + "=" * (-len(pending) % 4))
            body = json.loads(raw)
            return cls(
                campaign_id=UUID(body["c"]),
                submission_id=UUID(body["s"]),
                reasons=str(body["r"]),
                name=str(body["n"]),
                email=str(body["e"]),
                phone=str(body["p"]),
                nonce=str(body["k"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None


def subject_of(pending: str) -> UUID:
    """The code's subject: the code confirms this objection and no other."""
    return uuid5(PENDING_NAMESPACE, pending)


def _throttled() -> RequestProblem:
    return RequestProblem(429, Problem("email", "throttled", "提交过于频繁，请 1 小时后再试"))


def bad_code() -> RequestProblem:
    return RequestProblem(400, Problem("code", "invalid_token", "确认码无效、已使用或已过期"))


def ask(
    auth: Auth,
    address: str,
    campaign_id: UUID,
    submission_id: UUID,
    reasons: str,
    name: str,
    email: str,
    phone: str,
) -> tuple[str, datetime]:
    """Check the objection, count the attempt, mail the code; answers `pending` and when the
    code expires."""
    ledger = auth.runtime.ledger
    problems = public_objector_problems(name, email, phone)
    try:
        ledger.check_objection(campaign_id, submission_id, reasons)
    except InvalidGrading as e:
        problems += list(e.problems)
    if problems:
        raise InvalidGrading(*problems)
    now, since = auth.now, auth.now - WINDOW
    email = email.strip()
    if not auth.store.admit(
        "objection_address", address, now, since, REQUESTS_PER_ADDRESS
    ) or not auth.store.admit("objection_email", email.lower(), now, since, MAILS_PER_EMAIL):
        raise _throttled()
    pending = PendingObjection(
        campaign_id, submission_id, reasons.strip(), name.strip(), email, phone.strip(), uuid4().hex
    ).encode()
    code = auth.store.issue_token(PURPOSE, subject_of(pending), now, CODE_LIFETIME)
    tenant = auth.runtime.tenant
    campaign = ledger.get_campaign(campaign_id)
    body = (
        f"您好：\n\n有人使用本邮箱对“{campaign.title}”的公示结果提出异议。"
        f"请在公示页面输入以下确认码，异议才会提交。\n\n确认码：{code}\n\n"
        f"确认码 {int(CODE_LIFETIME.total_seconds() // 3600)} 小时内有效，只能使用一次。"
        f"\n\n如非本人操作，请忽略本邮件。\n{tenant.name_zh}"
    )
    auth.store.queue_mail(email, f"【{tenant.short_name_zh}】公示异议确认码", body, now)
    return pending, now + CODE_LIFETIME


def confirm(auth: Auth, address: str, campaign_id: UUID, pending: str, code: str) -> UUID:
    """Redeem the code for `pending` and file the objection; answers its id."""
    now = auth.now
    if not auth.store.admit(
        "objection_confirm_address", address, now, now - WINDOW, CONFIRMATIONS_PER_ADDRESS
    ):
        raise RequestProblem(429, Problem("code", "throttled", "尝试过于频繁，请 1 小时后再试"))
    found = PendingObjection.decode(pending)
    if found is None or found.campaign_id != campaign_id:
        raise bad_code()
    holder = auth.store.redeem_token(code.strip(), PURPOSE, now)
    if holder is None or holder != subject_of(pending):
        raise bad_code()
    actor = Actor(f"public:{found.email}", Role.SYSTEM)
    _, objection_id = auth.runtime.ledger.file_public_objection(
        campaign_id,
        found.submission_id,
        found.reasons,
        (found.name, found.email, found.phone),
        actor,
    )
    return objection_id
