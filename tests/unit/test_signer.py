"""Session tokens: a genuine one is opened once and remembered; one that is not is refused
every time and never remembered (`Signer.open_session_token`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from api.platform.security import Signer

EXPIRES = datetime(2027, 1, 1, tzinfo=UTC)


def counting(signer: Signer, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    made: list[str] = []
    mac = signer._mac

    def counted(message: str) -> Any:
        made.append(message)
        return mac(message)

    monkeypatch.setattr(signer, "_mac", counted)
    return made


def test_a_genuine_token_is_opened_once_then_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    signer = Signer(b"s" * 48)
    token = signer.session_token("saq", "session-1", EXPIRES)
    checks = counting(signer, monkeypatch)

    assert signer.open_session_token(token) == ("saq", "session-1", EXPIRES)
    assert signer.open_session_token(token) == ("saq", "session-1", EXPIRES)
    assert len(checks) == 1


def test_a_made_up_token_is_checked_every_time_and_never_remembered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    signer = Signer(b"s" * 48)
    genuine = signer.session_token("saq", "session-1", EXPIRES)
    forged = genuine.replace("session-1", "session-2")  # the signature no longer matches
    other_key = Signer(b"t" * 48).session_token("saq", "session-1", EXPIRES)
    checks = counting(signer, monkeypatch)

    for _ in range(3):
        assert signer.open_session_token(forged) is None
        assert signer.open_session_token(other_key) is None
    assert len(checks) == 6
    assert signer._opened == {}


def test_what_is_remembered_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    signer = Signer(b"s" * 48)
    monkeypatch.setattr(Signer, "OPENED_KEPT", 3)
    tokens = [signer.session_token("saq", f"session-{i}", EXPIRES) for i in range(7)]
    for token in tokens:
        assert signer.open_session_token(token) is not None
        assert len(signer._opened) <= 3
