"""The account aggregate: given events, when a command, then events or an error."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aggregates.account import (
    Account,
    AccountConflict,
    AccountStatus,
    Grant,
    InvalidAccount,
)
from aggregates.actor import Actor, Role
from aggregates.credentials import Passwords, password_problems
from aggregates.enterprise_claim import ClaimDocument, ClaimFile, ClaimStatus, Verification
from tests.support import beijing

SECRETARY = Actor("sec-1", Role.SECRETARIAT)
ICBC = "91100000100003962T"
LICENCE = ClaimFile(ClaimDocument.BUSINESS_LICENCE, "营业执照.pdf", "application/pdf", 9, "a" * 64)
LETTER = ClaimFile(ClaimDocument.AUTHORISATION_LETTER, "授权委托书.jpg", "image/jpeg", 9, "b" * 64)
NOW = beijing(2024, 3, 1, 9, 0)


def registered(status: AccountStatus = AccountStatus.ACTIVE) -> Account:
    account = Account.register(
        tenant="saq",
        login=" ZhangWei@Example.CN ",
        name="张伟",
        password_hash="h",
        status=status,
        actor=SECRETARY,
    )
    account.collect_events()
    return account


def test_registering_records_the_login_lower_cased_and_the_actor() -> None:
    account = Account.register(
        tenant="saq",
        login="ZhangWei@Example.CN",
        name="张伟",
        password_hash=None,
        status=AccountStatus.PENDING,
        actor=SECRETARY,
    )
    (event,) = account.collect_events()
    assert isinstance(event, Account.Registered)
    assert (event.login, event.actor_id, event.actor_role) == (
        "zhangwei@example.cn",
        "sec-1",
        "secretariat",
    )
    assert (
        account.id
        == Account.create_id("saq", "zhangwei@example.cn")
        != Account.create_id("sdaq", "zhangwei@example.cn")
    )


def test_a_login_must_be_an_email_address() -> None:
    with pytest.raises(InvalidAccount) as refused:
        Account.register(
            tenant="saq",
            login="zhangwei",
            name="张伟",
            password_hash=None,
            status=AccountStatus.PENDING,
            actor=SECRETARY,
        )
    assert refused.value.problems[0].field == "login"


@pytest.mark.parametrize(
    ("grant", "field"),
    [
        (Grant(Role.RECOMMENDING_UNIT), "grant.unit"),
        (Grant(Role.APPLICANT_UNIT), "grant.credit_code"),
        (Grant(Role.AUDITOR, "pudong"), "grant.scope"),
    ],
)
def test_a_scoped_role_needs_its_binding(grant: Grant, field: str) -> None:
    with pytest.raises(InvalidAccount) as refused:
        registered().grant(grant, SECRETARY)
    assert refused.value.problems[0].field == field


def test_roles_are_granted_once_and_revoked() -> None:
    account = registered()
    account.grant(Grant(Role.RECOMMENDING_UNIT, "pudong", (("unit_name", "浦东新区"),)), SECRETARY)
    with pytest.raises(AccountConflict):
        account.grant(Grant(Role.RECOMMENDING_UNIT, "pudong"), SECRETARY)
    account.revoke(Role.RECOMMENDING_UNIT, "pudong", "调岗", SECRETARY)
    assert account.roles() == set()
    assert [type(e).__name__ for e in account.collect_events()] == ["RoleGranted", "RoleRevoked"]


def test_a_password_change_ends_every_session_signed_in_before() -> None:
    account = registered()
    epoch = account.session_epoch
    account.change_password("new-hash", "change", SECRETARY)
    assert (account.password_hash, account.session_epoch) == ("new-hash", epoch + 1)


def test_a_lock_holds_until_its_time_or_an_unlock() -> None:
    account = registered()
    account.lock("连续多次登录失败", NOW + timedelta(minutes=15), Actor("qcflow", Role.SYSTEM))
    with pytest.raises(AccountConflict, match="锁定"):
        account.check_can_sign_in(NOW + timedelta(minutes=14))
    account.check_can_sign_in(NOW + timedelta(minutes=15))
    account.unlock(SECRETARY)
    account.check_can_sign_in(NOW)


def test_a_disabled_or_pending_account_cannot_sign_in() -> None:
    with pytest.raises(AccountConflict, match="确认"):
        registered(AccountStatus.PENDING).check_can_sign_in(NOW)
    account = registered()
    with pytest.raises(InvalidAccount):
        account.disable(" ", SECRETARY)
    account.disable("离职", SECRETARY)
    with pytest.raises(AccountConflict, match="停用"):
        account.check_can_sign_in(NOW)


def test_nobody_disables_their_own_account() -> None:
    account = registered()
    with pytest.raises(AccountConflict) as refused:
        account.disable("离职", Actor(str(account.id), Role.SECRETARIAT))
    assert refused.value.problems[0].rule == "own_account"
    assert account.status is AccountStatus.ACTIVE


@pytest.mark.parametrize(
    ("password", "rules"),
    [
        ("Admin2024@", {"common"}),
        ("short1!", {"min_length"}),
        ("onlylowercase", {"character_classes"}),
        ("Zhangwei-2024!", {"personal"}),
        ("Mx7#river-bend", set()),
        ("a long passphrase of plain words", set()),
    ],
)
def test_password_strength(password: str, rules: set[str]) -> None:
    assert {p.rule for p in password_problems(password, "zhangwei@example.cn", "张伟")} == rules


def test_passwords_are_hashed_with_argon2_and_verified() -> None:
    passwords = Passwords()
    hashed = passwords.hash("Mx7#river-bend")
    assert hashed.startswith("$argon2id$") and "Mx7#river-bend" not in hashed
    assert passwords.verify(hashed, "Mx7#river-bend")
    assert not passwords.verify(hashed, "Mx7#river-bent")
    assert not passwords.verify(None, "Mx7#river-bend")


# Whom an account speaks for (ADR 0017).


def claimed(code: str = ICBC) -> Account:
    """A self-registered account: the applicant role on the code, and its claim to it."""
    account = registered(AccountStatus.PENDING)
    me = Actor("wang@example.cn", Role.APPLICANT_UNIT)
    account.grant(Grant(Role.APPLICANT_UNIT, code, (("enterprise_name", "工商银行"),)), me)
    account.claim_enterprise(code, "工商银行", [LICENCE, LETTER], me)
    return account


def test_an_account_granted_the_role_directly_speaks_for_its_enterprise() -> None:
    account = registered()
    account.grant(Grant(Role.APPLICANT_UNIT, ICBC), SECRETARY)
    assert account.speaks_for() == {ICBC}
    account.check_speaks_for(ICBC)


def test_a_claim_speaks_for_nothing_until_it_is_verified() -> None:
    account = claimed()
    assert account.roles() == {Role.APPLICANT_UNIT} and account.speaks_for() == frozenset()
    claim = account.claim(ICBC)
    assert claim is not None and claim.status is ClaimStatus.AWAITING_VERIFICATION
    assert [f.document for f in claim.files] == [
        ClaimDocument.BUSINESS_LICENCE,
        ClaimDocument.AUTHORISATION_LETTER,
    ]
    with pytest.raises(AccountConflict) as refused:
        account.check_speaks_for(ICBC)
    assert refused.value.problems[0].rule == "awaiting_verification"

    account.verify_enterprise(ICBC, Verification.SECRETARIAT, SECRETARY)
    assert account.speaks_for() == {ICBC}
    verified = account.claim(ICBC)
    assert verified is not None and verified.via is Verification.SECRETARIAT
    assert [type(e).__name__ for e in account.collect_events()][-3:] == [
        "RoleGranted",
        "EnterpriseClaimed",
        "EnterpriseVerified",
    ]


def test_a_refused_claim_speaks_for_nothing_and_keeps_its_reason() -> None:
    account = claimed()
    with pytest.raises(InvalidAccount):
        account.refuse_enterprise_claim(ICBC, " ", SECRETARY)
    account.refuse_enterprise_claim(ICBC, "授权委托书未加盖公章", SECRETARY)
    claim = account.claim(ICBC)
    assert claim is not None and claim.status is ClaimStatus.REFUSED
    assert claim.reason == "授权委托书未加盖公章" and account.speaks_for() == frozenset()
    with pytest.raises(AccountConflict) as refused:
        account.check_speaks_for(ICBC)
    assert refused.value.problems[0].rule == "claim_refused"
    for decide in (
        lambda: account.verify_enterprise(ICBC, Verification.SECRETARIAT, SECRETARY),
        lambda: account.refuse_enterprise_claim(ICBC, "再次", SECRETARY),
    ):
        with pytest.raises(AccountConflict, match="待核验"):
            decide()
    # A new claim, with new documents, may follow a refusal.
    account.claim_enterprise(ICBC, "工商银行", [LICENCE, LETTER], SECRETARY)
    again = account.claim(ICBC)
    assert again is not None and again.status is ClaimStatus.AWAITING_VERIFICATION


def test_a_claim_needs_the_licence_and_the_letter_and_the_binding() -> None:
    account = registered(AccountStatus.PENDING)
    with pytest.raises(AccountConflict, match="未绑定"):
        account.claim_enterprise(ICBC, "工商银行", [LICENCE, LETTER], SECRETARY)
    account.grant(Grant(Role.APPLICANT_UNIT, ICBC), SECRETARY)
    with pytest.raises(InvalidAccount) as refused:
        account.claim_enterprise(ICBC, "工商银行", [LICENCE, LICENCE], SECRETARY)
    assert {(p.field, p.rule) for p in refused.value.problems} == {
        ("business_licence", "required"),
        ("authorisation_letter", "required"),
    }
    account.claim_enterprise(ICBC, "工商银行", [LETTER, LICENCE], SECRETARY)
    with pytest.raises(AccountConflict, match="核验中"):
        account.claim_enterprise(ICBC, "工商银行", [LICENCE, LETTER], SECRETARY)


def test_an_invitation_verifies_a_new_colleague_but_not_a_pending_claim() -> None:
    colleague = registered(AccountStatus.PENDING)
    inviter = Actor("admin-1", Role.APPLICANT_UNIT)
    colleague.grant(Grant(Role.APPLICANT_UNIT, ICBC, (("enterprise_name", "工商银行"),)), inviter)
    colleague.verify_enterprise(ICBC, Verification.INVITATION, inviter)
    assert colleague.speaks_for() == {ICBC}
    claim = colleague.claim(ICBC)
    assert claim is not None and (claim.via, claim.enterprise_name) == (
        Verification.INVITATION,
        "工商银行",
    )
    with pytest.raises(AccountConflict, match="受邀"):
        claimed().verify_enterprise(ICBC, Verification.INVITATION, inviter)


def test_the_claim_goes_with_the_revoked_role() -> None:
    account = claimed()
    account.revoke(Role.APPLICANT_UNIT, ICBC, "冒名注册", SECRETARY)
    assert account.claim(ICBC) is None and account.speaks_for() == frozenset()


def test_an_account_snapshotted_before_claims_existed_has_none() -> None:
    account = registered()
    account.grant(Grant(Role.APPLICANT_UNIT, ICBC), SECRETARY)
    del account.claims_state  # as in a snapshot taken before claims were recorded
    assert account.claims() == [] and account.speaks_for() == {ICBC}


def test_a_self_registration_from_before_claims_speaks_for_nothing_until_it_claims() -> None:
    account = registered(AccountStatus.PENDING)
    me = Actor("old@example.cn", Role.APPLICANT_UNIT)
    account.grant(Grant(Role.APPLICANT_UNIT, ICBC), me)  # the old self-registration: no claim
    assert account.speaks_for() == frozenset() and account.claims() == []
    with pytest.raises(AccountConflict, match="待核验"):
        account.check_speaks_for(ICBC)
    account.claim_enterprise(ICBC, "工商银行", [LICENCE, LETTER], me)
    account.verify_enterprise(ICBC, Verification.SECRETARIAT, SECRETARY)
    assert account.speaks_for() == {ICBC}
