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
from tests.support import beijing

SECRETARY = Actor("sec-1", Role.SECRETARIAT)
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
