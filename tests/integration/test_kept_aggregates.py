"""A ledger keeps its campaigns once loaded and brings them forward by the events stored since
(ADR 30, addendum d): what it answers is what is stored, also when another process (here a
second ledger on the same store) wrote meanwhile, and what a command changes on the campaign
it was given is not what the next load answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from aggregates.campaign import Campaign, CampaignNotFound
from aggregates.ledger.application import AssociationLedger
from tenants.postgres import provision_schemas
from tenants.runtime import StoreLocation
from tests.conftest import BACKENDS
from tests.unit.aggregates.test_campaign import SEC, open_campaign


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_kept_campaign_is_brought_forward_and_never_handed_out(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "postgres":
        url = request.getfixturevalue("postgres_url")
        provision_schemas(url, ["t_kept"])
        location = StoreLocation("saq", conninfo=url, schema="t_kept")
    else:
        location = StoreLocation("saq", sqlite_dir=tmp_path)
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
