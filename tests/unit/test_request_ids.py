"""A request without an `X-Request-ID` gets a new one (`api.platform.logging`)."""

from __future__ import annotations

import os
import re

from api.platform.logging import _request_id

NO_HEADER = {"type": "http", "headers": []}


def test_new_ids_are_32_hex_digits_and_do_not_repeat() -> None:
    ids = {_request_id(NO_HEADER) for _ in range(10_000)}
    assert len(ids) == 10_000
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)


def test_the_callers_id_is_kept_up_to_64_characters() -> None:
    scope = {"type": "http", "headers": [(b"x-request-id", b"r" * 100)]}
    assert _request_id(scope) == "r" * 64


def test_a_forked_process_makes_other_ids_than_its_parent() -> None:
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child: its next ids, to the parent
        os.write(write, "".join(_request_id(NO_HEADER) for _ in range(3)).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    with os.fdopen(read) as pipe:
        theirs = pipe.read()
    ours = "".join(_request_id(NO_HEADER) for _ in range(3))
    assert len(theirs) == 96 and theirs != ours
