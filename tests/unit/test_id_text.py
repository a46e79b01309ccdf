"""An id as the text a read model stores, remembered (`projections.store.id_text`)."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

import projections.store
from projections.store import id_text


def test_an_id_reads_as_its_text_and_the_same_id_gives_the_same_text() -> None:
    ids = [uuid4() for _ in range(100)]
    assert [id_text(i) for i in ids] == [str(i) for i in ids]
    again = UUID(str(ids[0]))  # another object, the same id
    assert id_text(again) is id_text(ids[0])
    assert id_text(str(ids[1])) == str(ids[1])  # an id held as text


def test_what_is_remembered_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(projections.store, "ID_TEXTS_KEPT", 10)
    monkeypatch.setattr(projections.store, "_ID_TEXTS", {})
    ids = [uuid4() for _ in range(25)]
    assert [id_text(i) for i in ids] == [str(i) for i in ids]
    assert len(projections.store._ID_TEXTS) <= 10
