"""Rehearsal campaigns (演练, ADR 36): their own id beside the real campaign, their own serials and
certificate codes, deleted with a reason (an event), and refused everything afterwards."""

from __future__ import annotations

from dataclasses import replace

import pytest

from aggregates.campaign import Campaign, CampaignConflict, InvalidCampaign
from aggregates.ledger.review import is_rehearsal_code, parse_certificate_code
from aggregates.submission_register import SubmissionRegister
from api.review.certificates import render_pdf
from tests.unit.aggregates.test_campaign import SEC, open_campaign
from tests.unit.test_certificates import CERT, pages


def a_rehearsal() -> Campaign:
    return open_campaign(rehearsal_number=1)


def test_a_rehearsal_has_its_own_id_beside_the_real_campaign() -> None:
    real, rehearsal = open_campaign(), a_rehearsal()
    assert real.id != rehearsal.id
    assert (real.is_rehearsal, rehearsal.is_rehearsal) == (False, True)
    assert isinstance(rehearsal.collect_events()[0], Campaign.RehearsalOpened)
    second = open_campaign(rehearsal_number=2)
    assert second.id not in (real.id, rehearsal.id)


def test_a_rehearsals_serials_are_marked() -> None:
    real = SubmissionRegister.open(open_campaign())
    rehearsal = SubmissionRegister.open(a_rehearsal())
    assert real.prefix == "SAQ-2020-QC"
    assert rehearsal.prefix == "SAQ-2020-QC-演练"


def test_a_sample_certificate_code_is_known_as_one() -> None:
    assert is_rehearsal_code("saq-2024-qc-yl-7k3mq9xd")
    assert not is_rehearsal_code("SAQ-2024-QC-7K3MQ9XD")
    assert parse_certificate_code("SAQ-2024-QC-YL-7K3MQ9XD") == ("saq", 2024, "QC")


def test_deleting_a_rehearsal_needs_a_reason_and_is_an_event() -> None:
    rehearsal = a_rehearsal()
    with pytest.raises(InvalidCampaign) as refused:
        rehearsal.delete_rehearsal("  ", SEC)
    assert [p.field for p in refused.value.problems] == ["reason"]
    rehearsal.delete_rehearsal("培训结束", SEC)
    deleted = rehearsal.collect_events()[-1]
    assert isinstance(deleted, Campaign.RehearsalDeleted)
    assert deleted.reason == "培训结束"
    assert rehearsal.status == "deleted"


def test_a_deleted_rehearsal_refuses_every_command() -> None:
    rehearsal = a_rehearsal()
    rehearsal.delete_rehearsal("培训结束", SEC)
    with pytest.raises(CampaignConflict):
        rehearsal.archive("归档", SEC)
    with pytest.raises(CampaignConflict):
        rehearsal.delete_rehearsal("再删一次", SEC)


def test_a_real_campaign_is_never_deleted() -> None:
    with pytest.raises(CampaignConflict) as refused:
        open_campaign().delete_rehearsal("试一试", SEC)
    assert refused.value.problems[0].rule == "not_a_rehearsal"


def test_a_sample_certificate_is_marked_and_still_one_page() -> None:
    sample = render_pdf(replace(CERT, sample=True))
    assert sample != render_pdf(CERT)
    assert pages(sample) == 1
    assert CERT.code.encode() in sample
