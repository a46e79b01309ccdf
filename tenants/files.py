"""The file store: uploaded files kept under their SHA-256, never overwritten, never lost.

One small interface (`FileStore`); a local directory now (`LocalFileStore`), object storage
later. Uploads stream to a temporary file while being hashed and counted, so a 2 GB video never
sits in memory, and an upload over its limit is stopped before it is written whole. A file is
kept only once the event that names it is recorded: nothing is kept of a refused request.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import zipfile
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar, runtime_checkable

import anyio

CHUNK = 1024 * 1024
T = TypeVar("T")


class TooLarge(Exception):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"larger than {limit} bytes")


@dataclass(frozen=True)
class Received:
    """A file received into the store's temporary area, not yet kept."""

    path: Path
    sha256: str
    size: int
    head: bytes


@runtime_checkable
class FileStore(Protocol):
    async def receive(self, chunks: AsyncIterator[bytes], limit: int) -> Received: ...

    def keep(self, received: Received) -> None: ...

    def discard(self, received: Received) -> None: ...

    def keep_recorded(self, received: Received, record: Callable[[], T]) -> T: ...

    def exists(self, sha256: str) -> bool: ...

    def read(self, sha256: str) -> Iterator[bytes]: ...


class LocalFileStore:
    """Files in `<root>/<ab>/<sha256>`; the temporary area is `<root>/tmp` (same file system, so
    keeping a file is an atomic rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "tmp").mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError("not a SHA-256 digest")
        return self.root / sha256[:2] / sha256

    async def receive(self, chunks: AsyncIterator[bytes], limit: int) -> Received:
        temp = self.root / "tmp" / secrets.token_hex(16)
        digest, size, head = hashlib.sha256(), 0, b""
        try:
            async with await anyio.open_file(temp, "wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise TooLarge(limit)
                    if len(head) < 4096:
                        head += chunk[: 4096 - len(head)]
                    digest.update(chunk)
                    await out.write(chunk)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return Received(temp, digest.hexdigest(), size, head)

    def hold(self, content: bytes) -> Received:
        """A file made here rather than uploaded (the demo's generated attachments): written to
        the temporary area and hashed like an upload, kept only by `keep` or `keep_recorded`."""
        temp = self.root / "tmp" / secrets.token_hex(16)
        temp.write_bytes(content)
        return Received(temp, hashlib.sha256(content).hexdigest(), len(content), content[:4096])

    def keep(self, received: Received) -> None:
        final = self.path(received.sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():  # the same content is already kept: never overwrite it
            received.path.unlink(missing_ok=True)
            return
        os.chmod(received.path, 0o440)
        os.replace(received.path, final)

    def discard(self, received: Received) -> None:
        received.path.unlink(missing_ok=True)

    def keep_recorded(self, received: Received, record: Callable[[], T]) -> T:
        """Record the event that names the file, then keep the file; if the ledger refuses (the
        result no longer takes files, the same file twice, a concurrent change), discard it.
        Kept before recording, a refused file would stay, unnamed by any event (and it may
        already be another record's file, so it could not simply be removed afterwards)."""
        try:
            recorded = record()
        except BaseException:
            self.discard(received)
            raise
        self.keep(received)
        return recorded

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    def adopt(self, source: LocalFileStore, sha256: str) -> None:
        """Keep a copy of a file another tenant's store holds (a forwarded attachment): copied to
        the temporary area, then renamed into place, so a crash never leaves half a file."""
        if self.exists(sha256):
            return
        temp = self.root / "tmp" / secrets.token_hex(16)
        try:
            shutil.copyfile(source.path(sha256), temp)
            self.keep(Received(temp, sha256, temp.stat().st_size, b""))
        finally:
            temp.unlink(missing_ok=True)

    def read(self, sha256: str) -> Iterator[bytes]:
        with self.path(sha256).open("rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk


# What a file is, from its content, not its name.

PDF = "application/pdf"
PPT = "application/vnd.ms-powerpoint"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MP4 = "video/mp4"
JPEG = "image/jpeg"
PNG = "image/png"


def sniff(received: Received) -> str | None:
    """The content type the bytes show, or None for anything else (an executable, …)."""
    head = received.head
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return PPT  # an OLE2 compound file; the only such kind we accept
    if head[4:8] == b"ftyp":
        return MP4
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"PK\x03\x04"):
        return _office_zip(received.path)
    return None


def _office_zip(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if any(n.startswith("ppt/") for n in names):
        return PPTX
    if any(n.startswith("xl/") for n in names):
        return XLSX
    return None
