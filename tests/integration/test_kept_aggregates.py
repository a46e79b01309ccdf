"""A ledger keeps its campaigns once loaded and brings them forward by the events stored since
(ADR 30, addendum d): what it answers is what is stored, also when another process (here a
second ledger on the same store) wrote meanwhile, and what a command changes on the campaign
it was given is not what the next load answers."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from aggregates.campaign import Campaign, CampaignNotFound
from aggregates.ledger.application import AssociationLedger
from aggregates.ledger.base import current_as_of_request
from tenants.postgres import provision_schemas
from tenants.runtime import StoreLocation
from tests.conftest import BACKENDS
from tests.unit.aggregates.test_campaign import SEC, open_campaign


def store(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, schema: str
) -> StoreLocation:
    """saq's store on the backend: a schema of the test database, or files in `tmp_path`."""
    if backend == "postgres":
        url = request.getfixturevalue("postgres_url")
        provision_schemas(url, [schema])
        return StoreLocation("saq", conninfo=url, schema=schema)
    return StoreLocation("saq", sqlite_dir=tmp_path)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_kept_campaign_is_brought_forward_and_never_handed_out(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    location = store(backend, tmp_path, request, "t_kept")
    here = AssociationLedger(location.ledger_env(pool_size=2))
    there = AssociationLedger(location.ledger_env(pool_size=2))  # another process
    try:
        opened = open_campaign(rehearsal_number=1)
        here.save(opened)
        first = here.get_campaign(opened.id)
        assert first.version == 1
        first.delete_rehearsal("只在内存里删", SEC)  # changed, never saved
        assert here.get_campaign(opened.id).status == opened.status != "deleted"

        written = there.get_campaign(opened.id)
        written.delete_rehearsal("培训结束", SEC)
        there.save(written)

        with pytest.raises(CampaignNotFound):  # deleted by the other: gone here too
            here.get_campaign(opened.id)
        again = here._find(opened.id, Campaign)
        assert again is not None
        assert (again.version, again.status) == (written.version, "deleted")
        assert again is not here._find(opened.id, Campaign)  # each load an object of its own
    finally:
        here.close()
        there.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_kept_campaign_at_the_version_read_with_the_request_is_answered_without_a_read(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """In a request whose session statement read the campaign's last version
    (`current_as_of_request`), the kept copy at that version needs no statement; a later
    version, another tenant's versions, no versions (outside a request) and a save in the
    request (which makes what was read old) each send the load to the store again."""
    location = store(backend, tmp_path, request, "t_current")
    here = AssociationLedger(location.ledger_env(pool_size=2))
    there = AssociationLedger(location.ledger_env(pool_size=2))  # another process
    reads: list[UUID] = []
    get = here.repository.event_store.get

    def counting(originator_id: UUID, **kwargs: Any) -> Any:
        reads.append(originator_id)
        return get(originator_id, **kwargs)

    here.repository.event_store.get = counting

    def in_request(tenant: str, versions: dict[UUID, int], call: Callable[[], Any]) -> Any:
        def run() -> Any:
            current_as_of_request(tenant, versions)
            return call()

        return contextvars.copy_context().run(run)  # a request's context, then gone

    try:
        opened = open_campaign(rehearsal_number=1)
        here.save(opened)
        cid = opened.id
        assert here.get_campaign(cid).version == 1  # kept from here on
        reads.clear()

        assert in_request("saq", {cid: 1}, lambda: here.get_campaign(cid)).version == 1
        assert reads == []  # at the version read with the session: no statement
        assert here.get_campaign(cid).version == 1
        assert reads == [cid]  # outside a request: read, as before

        written = there.get_campaign(cid)
        written.delete_rehearsal("培训结束", SEC)
        there.save(written)  # version 2, stored by the other process
        reads.clear()
        with pytest.raises(CampaignNotFound):  # read with the session: brought forward
            in_request("saq", {cid: 2}, lambda: here.get_campaign(cid))
        assert reads == [cid]
        assert in_request("sdaq", {cid: 2}, lambda: here._find(cid, Campaign)).version == 2
        assert reads == [cid, cid]  # another tenant's versions are not this ledger's

        def save_then_load() -> int | None:
            here.save(open_campaign(rehearsal_number=2))  # any save in the request
            found = here._find(cid, Campaign)
            return None if found is None else found.version

        reads.clear()
        assert in_request("saq", {cid: 2}, save_then_load) == 2
        assert reads == [cid]  # the save made what was read with the session old
    finally:
        here.close()
        there.close()
