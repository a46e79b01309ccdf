"""A 200 MB upload streams to disk: the process's peak memory stays flat."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.api.test_submission_rules import streaming
from tests.api.test_submissions import SAQ, journey, qc_result

pytestmark = pytest.mark.tenants("saq")

MB = 1024 * 1024


def peak_rss() -> int:
    """VmHWM of this process in bytes (its peak resident memory since the last reset)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM")


def reset_peak_rss() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # Linux: reset VmHWM to the current RSS


@pytest.mark.parametrize(
    "backend", ["sqlite"]
)  # memory is the file store's concern, not the ledger's
async def test_a_200_mb_upload_keeps_memory_flat(client: AsyncTestClient[Any]) -> None:
    j = await journey(client, max_mb_video=300)
    submission_id = (await j.draft(qc_result())).json()["id"]

    async def video() -> AsyncIterator[bytes]:
        yield b"\x00\x00\x00\x18ftypmp42" + b"\x00" * (MB - 12)  # an MP4 header, then 199 MB
        for i in range(199):
            # A fresh, written chunk each time, as from a socket (a zero-filled one would not
            # even be resident): memory grows only if the chunks are kept.
            yield bytes([i % 251 + 1]) * MB

    reset_peak_rss()
    before = peak_rss()
    async with streaming(client) as http:
        response = await http.post(
            f"{SAQ}/submissions/{submission_id}/attachments/video",
            params={"name": "发表视频.mp4"},
            content=video(),
            headers={**j.applicant, "content-type": "application/octet-stream"},
        )
    growth = peak_rss() - before

    assert response.status_code == 201, response.text
    assert response.json()["attachments"][0]["size"] == 200 * MB
    assert growth < 64 * MB, f"peak memory grew by {growth / MB:.0f} MB for a 200 MB upload"
