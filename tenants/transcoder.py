"""The event store's transcoder: msgspec JSON with tagged values, so that every event and
snapshot round-trips exactly (UUID, Decimal, aware datetime, date, enums, nested containers);
and its mapper, the library's with less work per event read.

msgspec writes UUID, Decimal and datetime natively as strings and cannot tell them apart on an
untyped decode, so such values are tagged as `{"_type_": name, "_data_": value}` (the shape of the
library's JSONTranscoder). Tuples come back as lists, as with any JSON.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from typing import Any, cast
from uuid import UUID, SafeUUID

import msgspec
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    Transcoder,
    find_id_convertor,
)
from eventsourcing.utils import get_topic, resolve_topic

_TAG_KEYS = frozenset(("_type_", "_data_"))


def _decode_enum(data: list[str]) -> Enum:
    topic, value = data
    enum_class: type[Enum] = resolve_topic(topic)
    return enum_class(value)


_new = object.__new__
_set = object.__setattr__


def _uuid(hex_: str) -> UUID:
    """`UUID(hex=…)` in half its time: the text is ours (`UUID.hex`), with nothing to tidy (no
    braces, dashes or prefix); checked as strictly (32 hex digits)."""
    value = int(hex_, 16)
    if len(hex_) != 32 or value < 0:
        raise ValueError(f"not a UUID's 32 hex digits: {hex_!r}")
    uuid = _new(UUID)
    _set(uuid, "int", value)
    _set(uuid, "is_safe", SafeUUID.unknown)
    return uuid


# The same few scores (8.5, 13) come back in every sheet, and the same ids (a round's, its
# submissions') in event after event: a UUID or Decimal made once is handed out again (both are
# immutable), a tenth of the cost of making it (a read model's rebuild decodes every event of its
# topics). Bounded, so memory does not grow with the history; thread-safe (lru_cache's own lock).
_DECIMALS = lru_cache(maxsize=4096)(Decimal)
_UUIDS = lru_cache(maxsize=16384)(_uuid)

_UNTAG: dict[str, Callable[[Any], Any]] = {
    "uuid_hex": _UUIDS,
    "decimal_str": _DECIMALS,
    "datetime_iso": datetime.fromisoformat,
    "date_iso": date.fromisoformat,
    "enum": _decode_enum,
    "dict": lambda data: {k: _untag(v) for k, v in data.items()},  # a plain dict, not a tag
    "int_str": int,
    "float_repr": float,
}

_INT64 = range(-(2**63), 2**64)  # what msgspec writes as a JSON number


def _tag(o: Any) -> Any:
    # Order matters: bool before int is not needed (both native), but Enum before str/int
    # (a StrEnum is a str) and datetime before date (a datetime is a date).
    if isinstance(o, dict):
        tagged = {k: _tag(v) for k, v in o.items()}
        # A plain dict that happens to look like a tag is wrapped, so it stays a dict.
        return {"_type_": "dict", "_data_": tagged} if o.keys() == _TAG_KEYS else tagged
    if isinstance(o, list | tuple):
        return [_tag(v) for v in o]
    if isinstance(o, Enum):
        return {"_type_": "enum", "_data_": [get_topic(type(o)), o.value]}
    if isinstance(o, int) and not isinstance(o, bool) and o not in _INT64:
        return {"_type_": "int_str", "_data_": str(o)}
    if isinstance(o, float) and not math.isfinite(o):
        return {"_type_": "float_repr", "_data_": repr(o)}  # JSON has no NaN or infinity
    if isinstance(o, str | int | float | bool) or o is None:
        return o
    if isinstance(o, UUID):
        return {"_type_": "uuid_hex", "_data_": o.hex}
    if isinstance(o, Decimal):
        return {"_type_": "decimal_str", "_data_": str(o)}
    if isinstance(o, datetime):
        return {"_type_": "datetime_iso", "_data_": o.isoformat()}
    if isinstance(o, date):
        return {"_type_": "date_iso", "_data_": o.isoformat()}
    msg = f"cannot store a value of type {type(o).__qualname__}: {o!r}"
    raise TypeError(msg)


def _untag(o: Any) -> Any:
    """Tags replaced by their values, in place: the containers are the decoder's own, fresh.
    Only containers are visited (a string or number is left as it is, without a call), which
    is most of what an event holds, and a tag is replaced where it is met, without a call of
    its own (an event holds several: its timestamp, ids, scores)."""
    kind = type(o)
    if kind is dict:
        if len(o) == 2 and "_type_" in o and "_data_" in o:
            return _UNTAG[o["_type_"]](o["_data_"])
        for key, value in o.items():
            inner = type(value)
            if inner is dict:
                if len(value) == 2 and "_type_" in value and "_data_" in value:
                    o[key] = _UNTAG[value["_type_"]](value["_data_"])
                else:
                    _untag(value)  # a plain dict: changed in place
            elif inner is list:
                _untag(value)
    elif kind is list:
        for i, value in enumerate(o):
            inner = type(value)
            if inner is dict:
                if len(value) == 2 and "_type_" in value and "_data_" in value:
                    o[i] = _UNTAG[value["_type_"]](value["_data_"])
                else:
                    _untag(value)
            elif inner is list:
                _untag(value)
    return o


class MsgspecTranscoder(Transcoder):
    """Plugged in with TRANSCODER_TOPIC; the library builds it with no arguments."""

    _encoder = msgspec.json.Encoder()
    _decoder = msgspec.json.Decoder()

    def encode(self, obj: Any) -> bytes:
        return self._encoder.encode(_tag(obj))

    def decode(self, data: bytes) -> Any:
        return _untag(self._decoder.decode(data))


class LeanMapper(Mapper[UUID]):
    """The library's mapper (MAPPER_TOPIC), making a domain event from a stored one the same way
    in fewer steps: a topic's class and class version looked up once, and an originator id that
    is already a UUID kept as it is (the library's convertor passes it through). A rebuild maps
    every event of its read model's topics, and a command every event of what it loads; the
    library's bookkeeping was about a sixth of a review sheet's mapping. With a cipher or a
    compressor (not configured here) it is the library's own."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._classes: dict[str, tuple[type[Any], int]] = {}

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        if self.cipher or self.compressor:
            return super().to_domain_event(stored_event)
        topic = stored_event.topic
        known = self._classes.get(topic)
        if known is None:
            cls = resolve_topic(topic)
            known = self._classes[topic] = (cls, getattr(cls, "class_version", 1))
        cls, class_version = known
        try:
            event_state: dict[str, Any] = self.transcoder.decode(stored_event.state)
        except Exception as e:
            raise _undecodable(stored_event, e) from e
        originator_id = stored_event.originator_id
        if type(originator_id) is not UUID:
            convert = find_id_convertor(cast(Hashable, cls), cast(Hashable, type(originator_id)))
            originator_id = convert(originator_id)
        event_state["originator_id"] = originator_id
        event_state["originator_version"] = stored_event.originator_version
        from_version = event_state.pop("class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(event_state)
            from_version += 1
        domain_event: DomainEventProtocol[UUID] = _new(cls)
        _set(domain_event, "__dict__", event_state)
        return domain_event

    def reading(self, fields: Mapping[type, Sequence[str]]) -> Callable[[StoredEvent], Any]:
        """`to_domain_event` for a reader that reads only `fields` of these event classes (a
        dotted name, `form.title`, reads one key of a dict field): of such an event only those
        are decoded, with its originator's id and version, and the rest of its JSON is passed
        over unmade (msgspec skips what a type does not name). What the event does not hold is
        left out, as a full decode leaves it out: a field's class default answers for it, or
        reading it raises AttributeError; a key is not in its dict. Other events, and events
        whose class has upcasters, are decoded whole."""
        if self.cipher or self.compressor:
            return self.to_domain_event
        partial: dict[str, tuple[type[Any], Callable[[bytes], Any], _Shape]] = {}
        for cls, names in fields.items():
            if getattr(cls, "class_version", 1) == 1:
                shape = _shape(f"{cls.__qualname__}Read", names)
                partial[get_topic(cls)] = (cls, msgspec.json.Decoder(shape[0]).decode, shape)
        whole = self.to_domain_event

        def to_domain_event(stored_event: StoredEvent) -> Any:
            known = partial.get(stored_event.topic)
            if known is None or type(stored_event.originator_id) is not UUID:
                return whole(stored_event)
            cls, decode, shape = known
            try:
                state = _read(decode(stored_event.state), shape[1])
            except Exception as e:
                raise _undecodable(stored_event, e) from e
            state["originator_id"] = stored_event.originator_id
            state["originator_version"] = stored_event.originator_version
            event = _new(cls)
            _set(event, "__dict__", state)
            return event

        return to_domain_event


def _undecodable(stored_event: StoredEvent, error: Exception) -> MapperDeserialisationError:
    """The library's error for a stored event whose state does not decode, in its words."""
    return MapperDeserialisationError(
        f"Failed to deserialise state of stored event with topic '{stored_event.topic}', "
        f"originator_id '{stored_event.originator_id}' and "
        f"originator_version {stored_event.originator_version}: {error}"
    )


_Shape = tuple[type[msgspec.Struct], tuple[tuple[str, Any], ...]]
"""What a partial decode reads: the struct msgspec decodes into, and each of its fields with
its own shape where only some of its keys are read (else None)."""


def _shape(name: str, names: Sequence[str]) -> _Shape:
    """The shape that reads `names` (`key` or `key.inner…`) of a JSON object."""
    inner: dict[str, list[str]] = {}
    for dotted in names:
        key, _, rest = dotted.partition(".")
        inner.setdefault(key, []).append(rest)
    fields: list[tuple[str, Any]] = []
    for key, rests in inner.items():
        if "" in rests and len(rests) > 1:
            msg = f"{name}: {key} is read whole and in part"
            raise ValueError(msg)
        fields.append((key, None if "" in rests else _shape(f"{name}_{key}", rests)))
    struct = msgspec.defstruct(
        name,
        [
            # A tag met where keys are read (a dict that looked like one): not read in part.
            ("qcflow_tag", Any, msgspec.field(default=msgspec.UNSET, name="_type_")),
            *((key, child[0] if child else Any, msgspec.UNSET) for key, child in fields),
        ],
    )
    return struct, tuple(fields)


def _read(decoded: msgspec.Struct, fields: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    """A partial decode as the dict a full one makes, less what was not read or not there."""
    tagged, *values = msgspec.structs.astuple(decoded)
    if tagged is not msgspec.UNSET:
        msg = f"a tagged value ({tagged}) where keys are read"
        raise ValueError(msg)
    state: dict[str, Any] = {}
    for (key, child), value in zip(fields, values, strict=True):
        if value is msgspec.UNSET:
            continue
        state[key] = _untag(value) if child is None else _read(value, child[1])
    return state
