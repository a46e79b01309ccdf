"""The enterprise's name on an account (ADR 0037): as verified, and a change of name its own
event."""

from __future__ import annotations

import pytest

from aggregates.account import Account, AccountConflict, Grant, InvalidAccount
from aggregates.actor import Actor, Role
from aggregates.enterprise_claim import Verification
from tests.unit.aggregates.test_account import ICBC, LETTER, LICENCE, SECRETARY, registered

APPLICANT = Actor("applicant-1", Role.APPLICANT_UNIT)
NAME = "中国工商银行股份有限公司上海市分行"


def claimant() -> Account:
    """An account that bound itself to ICBC and claims to speak for it, unverified."""
    account = registered()
    account.grant(Grant(Role.APPLICANT_UNIT, ICBC, (("enterprise_name", NAME),)), APPLICANT)
    account.claim_enterprise(ICBC, NAME, [LICENCE, LETTER], APPLICANT)
    account.collect_events()
    return account


def test_the_name_counts_as_verified_only_once_the_account_speaks_for_the_enterprise() -> None:
    account = claimant()
    assert account.verified_name(ICBC) is None
    account.verify_enterprise(ICBC, Verification.SECRETARIAT, SECRETARY)
    assert account.verified_name(ICBC) == NAME
    assert account.verified_name("91310000132260250X") is None


def test_a_change_of_name_is_recorded_with_its_reason_and_names_the_claim_and_grant() -> None:
    account = claimant()
    account.verify_enterprise(ICBC, Verification.SECRETARIAT, SECRETARY)
    account.collect_events()
    account.rename_enterprise(ICBC, " 工银上海分行 ", "新营业执照", SECRETARY)
    (event,) = account.collect_events()
    assert isinstance(event, Account.EnterpriseRenamed)
    assert (event.enterprise_name, event.reason, event.actor_role) == (
        "工银上海分行",
        "新营业执照",
        "secretariat",
    )
    assert account.verified_name(ICBC) == "工银上海分行"
    claim = account.claim(ICBC)
    assert claim is not None and claim.enterprise_name == "工银上海分行"


def test_a_change_of_name_needs_a_name_a_reason_a_change_and_the_enterprise() -> None:
    account = claimant()
    with pytest.raises(InvalidAccount) as refused:
        account.rename_enterprise(ICBC, "", " ", SECRETARY)
    assert {p.field for p in refused.value.problems} == {"enterprise_name", "reason"}
    with pytest.raises(AccountConflict):
        account.rename_enterprise(ICBC, NAME, "同名", SECRETARY)
    with pytest.raises(AccountConflict):
        account.rename_enterprise("91310000132260250X", "别的", "理由", SECRETARY)
    assert account.collect_events() == []
