"""The event store's transcoder: whatever an event or snapshot holds comes back the same."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum, IntEnum
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest
from eventsourcing.domain import DomainEvent, Snapshot
from eventsourcing.persistence import Mapper, MapperDeserialisationError, StoredEvent
from eventsourcing.utils import get_topic
from hypothesis import given
from hypothesis import strategies as st

from aggregates.actor import Actor, Role
from aggregates.campaign import (
    Campaign,
    CampaignRules,
    Contact,
    Phase,
    Programme,
    ScoreAggregation,
    Window,
)
from tenants.transcoder import LeanMapper, MsgspecTranscoder

BEIJING = ZoneInfo("Asia/Shanghai")
TRANSCODER = MsgspecTranscoder()


class Level(IntEnum):
    """Defined at module level so that its topic resolves on decode."""

    BENCHMARK = 1
    EXCELLENT = 2
    PROMOTION = 3


def round_trip(value: Any) -> Any:
    return TRANSCODER.decode(TRANSCODER.encode(value))


def assert_same(expected: Any, actual: Any, path: str = "value") -> None:
    """Equal and of the same type all the way down; NaN equals NaN, -0.0 is not 0.0."""
    assert type(actual) is type(expected), f"{path}: {type(actual)} is not {type(expected)}"
    if isinstance(expected, dict):
        assert list(actual) == list(expected), f"{path}: keys differ"
        for key, item in expected.items():
            assert_same(item, actual[key], f"{path}[{key!r}]")
    elif isinstance(expected, list):
        assert len(actual) == len(expected), f"{path}: lengths differ"
        for i, item in enumerate(expected):
            assert_same(item, actual[i], f"{path}[{i}]")
    elif isinstance(expected, Enum):
        assert actual is expected, path
    elif isinstance(expected, float):
        if math.isnan(expected):
            assert math.isnan(actual), path
        else:
            assert actual == expected, path
            assert math.copysign(1, actual) == math.copysign(1, expected), path
    elif isinstance(expected, Decimal):
        assert actual.as_tuple() == expected.as_tuple(), f"{path}: {actual} is not {expected}"
    elif isinstance(expected, datetime):
        # Compare the wall time and the offset: an instant alone would lose the offset.
        assert actual.replace(tzinfo=None) == expected.replace(tzinfo=None), path
        assert actual.utcoffset() == expected.utcoffset(), path
    else:
        assert actual == expected, path


# Offsets in whole seconds: CPython 3.11's fromisoformat drops a sub-second offset.
fixed_offsets = st.integers(min_value=-86399, max_value=86399).map(
    lambda seconds: timezone(timedelta(seconds=seconds))
)
aware_datetimes = st.datetimes(timezones=fixed_offsets | st.just(BEIJING) | st.just(UTC))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 10**40]),
    st.floats(),
    st.text(),
    st.uuids(),
    st.decimals(allow_nan=False, allow_infinity=False),
    aware_datetimes,
    st.dates(),
    st.sampled_from(Phase),
    st.sampled_from(Programme),
    st.sampled_from(Level),
)
keys = st.text() | st.sampled_from(["_type_", "_data_", "dict", "enum"])
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(keys, children, max_size=5),
        # Plain dicts shaped exactly like a tag must stay plain dicts.
        st.fixed_dictionaries({"_type_": children, "_data_": children}),
        st.fixed_dictionaries(
            {"_type_": st.sampled_from(["dict", "enum", "uuid_hex", "int_str"]), "_data_": children}
        ),
    ),
    max_leaves=20,
)


@given(values)
def test_any_supported_value_round_trips_with_its_types(value: Any) -> None:
    assert_same(value, round_trip(value))


@given(st.dictionaries(st.text(), values, max_size=5))
def test_an_event_like_mapping_round_trips_with_its_types(state: dict[str, Any]) -> None:
    assert_same(state, round_trip(state))


@pytest.mark.parametrize(
    "value",
    [
        Decimal("1.10"),
        Decimal("-0.000"),
        Decimal("1E+3"),
        UUID(
            "c0adeb1b-efe7-4f66-9f78-4c657c632d62"
        ),  # fixed: every test process collects the same ids
        date(2020, 7, 25),
        datetime(2020, 7, 25, 22, tzinfo=BEIJING),
        datetime(2020, 7, 25, 22, tzinfo=timezone(timedelta(hours=-3, minutes=-30))),
        Phase.SUBMISSION,
        Programme.TEAM,
        Level.EXCELLENT,
        2**64,
        -(2**63) - 1,
        float("nan"),
        float("inf"),
        float("-inf"),
        -0.0,
        {"_type_": "uuid_hex", "_data_": "0" * 32},
        {"_type_": "dict", "_data_": {"_type_": "enum", "_data_": ["x", "y"]}},
    ],
    ids=repr,
)
def test_a_value_comes_back_as_itself_not_as_a_look_alike(value: Any) -> None:
    assert_same(value, round_trip(value))


def test_a_decimal_keeps_its_exponent_and_a_date_stays_a_date() -> None:
    price, day = round_trip([Decimal("1.10"), date(2020, 7, 25)])

    assert str(price) == "1.10"
    assert type(day) is date


def test_an_aware_datetime_keeps_its_offset() -> None:
    moment = round_trip(datetime(2020, 7, 25, 22, tzinfo=BEIJING))

    assert moment.utcoffset() == timedelta(hours=8)
    assert moment.isoformat() == "2020-07-25T22:00:00+08:00"


def test_a_uuid_stays_a_uuid() -> None:
    campaign_id = uuid4()

    assert round_trip({"id": campaign_id}) == {"id": campaign_id}
    assert type(round_trip(campaign_id)) is UUID


def test_a_uuid_decodes_as_the_library_s_uuid_would_and_refuses_what_it_refuses() -> None:
    campaign_id = uuid4()
    decoded = round_trip(campaign_id)
    assert (decoded, hash(decoded), str(decoded), decoded.is_safe) == (
        campaign_id,
        hash(campaign_id),
        str(campaign_id),
        UUID(hex=campaign_id.hex).is_safe,
    )
    for bad in ("12" * 15, "12" * 17, "-" + "1" * 31, "g" * 32, ""):
        with pytest.raises(ValueError, match=r"UUID|invalid literal"):
            TRANSCODER.decode(b'{"_type_":"uuid_hex","_data_":"%s"}' % bad.encode())


def test_a_value_decoded_again_is_the_same_value_however_it_was_written() -> None:
    # Decoded values are handed out again (tenants.transcoder._DECIMALS, _UUIDS): equal text
    # gives the same value, other text its own, down to a decimal's exponent.
    first, again, longer = (
        TRANSCODER.decode(b'{"_type_":"decimal_str","_data_":"%s"}' % text)
        for text in (b"8.5", b"8.5", b"8.50")
    )
    assert (str(first), str(again), str(longer)) == ("8.5", "8.5", "8.50")
    assert first.as_tuple() != longer.as_tuple()
    one, other = uuid4(), uuid4()
    assert [round_trip({"id": u})["id"] for u in (one, other, one)] == [one, other, one]


def test_tuples_come_back_as_lists() -> None:
    assert round_trip({"pair": (1, ("a", Phase.GRADING))}) == {"pair": [1, ["a", Phase.GRADING]]}
    assert type(round_trip((1, 2))) is list


@pytest.mark.parametrize(
    "value",
    [{1, 2}, frozenset(), object(), b"bytes", complex(1, 2), {"nested": [{"a"}]}],
    ids=["set", "frozenset", "object", "bytes", "complex", "nested-set"],
)
def test_encoding_an_unsupported_value_raises_type_error(value: Any) -> None:
    with pytest.raises(TypeError):
        TRANSCODER.encode(value)


def bj(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BEIJING)


def a_campaign() -> Campaign:
    secretariat = Actor(user_id="sec-wang", role=Role.SECRETARIAT)
    campaign = Campaign.open(
        tenant="saq",
        programme=Programme.QC_GROUP,
        year=2020,
        title="2020年上海市质量管理小组活动",
        document_number="沪质协〔2020〕7号",
        theme=None,
        co_organisers=["上海市总工会"],
        contact=Contact(person="王老师", phone="021-63000000", postcode="200000"),
        period_start=date(2019, 7, 1),
        period_end=date(2020, 6, 30),
        rules=CampaignRules(),
        timeline={
            Phase.REGISTRATION: Window(opens_at=None, closes_at=bj(2020, 6, 30, 17)),
            Phase.SUBMISSION: Window(opens_at=bj(2020, 7, 1, 9), closes_at=bj(2020, 7, 25, 22)),
            Phase.PUBLICATION: Window(opens_at=bj(2020, 11, 1), closes_at=bj(2020, 12, 31)),
        },
        actor=secretariat,
    )
    changes = {"score_aggregation": ScoreAggregation.TRIMMED_MEAN, "recommending_unit_quota": 20}
    campaign.amend_rules(changes, "去掉最高分和最低分", bj(2020, 6, 1), secretariat)
    campaign.extend_deadline(
        Phase.SUBMISSION, bj(2020, 7, 31, 22), "延期", bj(2020, 7, 20), secretariat
    )
    campaign.publish_results(bj(2020, 11, 2, 10), secretariat)
    return campaign


def test_a_campaign_snapshot_round_trips() -> None:
    campaign = a_campaign()
    snapshot = Snapshot.take(campaign)

    state = TRANSCODER.decode(TRANSCODER.encode(snapshot.state))
    restored = Snapshot(
        originator_id=snapshot.originator_id,
        originator_version=snapshot.originator_version,
        timestamp=snapshot.timestamp,
        topic=snapshot.topic,
        state=state,
    ).mutate(None)

    assert isinstance(restored, Campaign)
    assert (restored.id, restored.version) == (campaign.id, campaign.version)
    assert restored.programme is Programme.QC_GROUP
    assert restored.timeline == campaign.timeline
    closes_at = restored.timeline[Phase.SUBMISSION].closes_at
    assert closes_at.utcoffset() == timedelta(hours=8)
    assert restored.rules == campaign.rules
    assert restored.rules.score_aggregation is ScoreAggregation.TRIMMED_MEAN
    assert restored.contact == campaign.contact
    assert (restored.period_start, restored.period_end) == (date(2019, 7, 1), date(2020, 6, 30))
    assert type(restored.period_start) is date
    assert restored.status == "published"
    assert_same(snapshot.state, state)


class Renamed(DomainEvent):
    """Version 2 of an event whose version 1 had `old_name` (module level: its topic resolves)."""

    class_version = 2
    new_name: str

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["new_name"] = state.pop("old_name")


def test_the_lean_mapper_makes_each_event_as_the_library_s_mapper_does() -> None:
    library, lean = Mapper[UUID](transcoder=TRANSCODER), LeanMapper(transcoder=TRANSCODER)
    campaign = a_campaign()
    stored = [library.to_stored_event(e) for e in campaign.collect_events()]
    stored.append(library.to_stored_event(Snapshot.take(campaign)))
    old = StoredEvent(
        originator_id=str(campaign.id),  # as a str, which the id convertor makes a UUID
        originator_version=1,
        topic=get_topic(Renamed),
        state=TRANSCODER.encode({"timestamp": bj(2020, 1, 1), "old_name": "旧"}),
    )
    new = library.to_stored_event(
        Renamed(
            originator_id=campaign.id,
            originator_version=2,
            timestamp=bj(2020, 1, 2),
            new_name="新",
        )
    )
    assert b'"class_version":2' in new.state
    for event in [*stored, old, old, new]:  # twice: the second from what the first looked up
        ours, theirs = lean.to_domain_event(event), library.to_domain_event(event)
        assert type(ours) is type(theirs), event.topic
        assert_same(vars(theirs), vars(ours))
    assert lean.to_domain_event(old).new_name == "旧"
    assert type(lean.to_domain_event(old).originator_id) is UUID

    broken = StoredEvent(campaign.id, 9, stored[0].topic, b'{"timestamp": ')
    with pytest.raises(MapperDeserialisationError) as theirs_error:
        library.to_domain_event(broken)
    with pytest.raises(MapperDeserialisationError) as ours_error:
        lean.to_domain_event(broken)
    assert str(ours_error.value) == str(theirs_error.value)


class Filed(DomainEvent):
    """An event read in part (module level: its topic resolves)."""

    sheet_id: UUID
    scores: dict[str, Any]
    comment: str
    kind: str = "online"


def filed(**state: Any) -> StoredEvent:
    return StoredEvent(
        originator_id=uuid4(),
        originator_version=3,
        topic=get_topic(Filed),
        state=TRANSCODER.encode({"timestamp": bj(2020, 1, 2), **state}),
    )


def test_a_reader_of_some_fields_gets_them_as_a_full_decode_makes_them_and_nothing_else() -> None:
    lean = LeanMapper(transcoder=TRANSCODER)
    reading = lean.reading({Filed: ("sheet_id", "scores.total", "scores.by", "kind")})
    sheet = uuid4()
    stored = filed(
        sheet_id=sheet,
        scores={"total": Decimal("88.50"), "criteria": {"选题": Decimal("8.5")}, "by": ["甲"]},
        comment="长评语" * 100,
        kind="paper",
    )

    whole, read = lean.to_domain_event(stored), reading(stored)

    assert type(read) is Filed
    assert_same(
        {
            "sheet_id": sheet,
            "scores": {"total": Decimal("88.50"), "by": ["甲"]},
            "kind": "paper",
            "originator_id": stored.originator_id,
            "originator_version": 3,
        },
        vars(read),
    )
    assert (read.sheet_id, read.scores["total"]) == (whole.sheet_id, whole.scores["total"])
    with pytest.raises(AttributeError):
        read.comment  # noqa: B018 (not read: reading it fails, never a wrong value)
    opened = lean.to_stored_event(a_campaign().collect_events()[0])
    assert_same(vars(lean.to_domain_event(opened)), vars(reading(opened)))  # not named: whole


def test_what_an_event_does_not_hold_is_left_out_as_a_full_decode_leaves_it() -> None:
    lean = LeanMapper(transcoder=TRANSCODER)
    reading = lean.reading({Filed: ("sheet_id", "scores.total", "kind")})
    stored = filed(sheet_id=uuid4(), scores={"criteria": {}})  # written before `kind` and a total

    read, whole = reading(stored), lean.to_domain_event(stored)

    assert read.kind == whole.kind == "online"  # the class's default
    assert read.scores == {} and "total" not in read.scores


def test_a_dict_read_in_part_that_holds_a_tag_is_refused_not_read_empty() -> None:
    lean = LeanMapper(transcoder=TRANSCODER)
    reading = lean.reading({Filed: ("scores.total",)})
    stored = filed(sheet_id=uuid4(), scores={"_type_": "x", "_data_": "y"}, comment="")

    assert lean.to_domain_event(stored).scores == {"_type_": "x", "_data_": "y"}
    with pytest.raises(MapperDeserialisationError, match="Filed"):
        reading(stored)


def test_an_event_with_upcasters_or_a_field_read_whole_and_in_part_is_not_read_in_part() -> None:
    lean = LeanMapper(transcoder=TRANSCODER)
    old = StoredEvent(uuid4(), 1, get_topic(Renamed), TRANSCODER.encode({"old_name": "旧"}))

    assert lean.reading({Renamed: ("timestamp",)})(old).new_name == "旧"  # upcast, whole
    with pytest.raises(ValueError, match="whole and in part"):
        lean.reading({Filed: ("scores", "scores.total")})
