"""The portal's vendored assets: fetch the pinned npm tarballs and check every file's hash.

`python -m api.portal.vendor` (`make vendor`) downloads each package of
`static/vendor/manifest.toml` from the npm registry, checks the tarball against the registry's
integrity, and writes the listed files after checking their SHA-256; `--check` only checks the
files already in place.
"""

from __future__ import annotations

import base64
import hashlib
import io
import sys
import tarfile
import tomllib
import urllib.request
from pathlib import Path
from typing import Any

VENDOR = Path(__file__).parent / "static" / "vendor"
MANIFEST = VENDOR / "manifest.toml"
REGISTRY = "https://registry.npmjs.org/"


def manifest() -> list[dict[str, Any]]:
    packages: list[dict[str, Any]] = tomllib.loads(MANIFEST.read_text())["packages"]
    return packages


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def check() -> list[str]:
    """What is wrong with the files in place (nothing: an empty list)."""
    problems = []
    for package in manifest():
        for file in package["files"]:
            path = VENDOR / file["path"]
            if not path.is_file():
                problems.append(f"{file['path']}: missing")
            elif sha256(path.read_bytes()) != file["sha256"]:
                problems.append(f"{file['path']}: SHA-256 differs from the manifest")
    return problems


def fetch() -> None:
    for package in manifest():
        url: str = package["tarball"]
        if not url.startswith(REGISTRY):
            raise SystemExit(f"{package['name']}: only the npm registry is allowed, not {url}")
        with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (https, checked above)
            tarball = response.read()
        algorithm, _, expected = package["integrity"].partition("-")
        digest = base64.b64encode(hashlib.new(algorithm, tarball).digest()).decode()
        if digest != expected:
            raise SystemExit(f"{package['name']}@{package['version']}: tarball integrity differs")
        with tarfile.open(fileobj=io.BytesIO(tarball)) as archive:
            for file in package["files"]:
                member = archive.extractfile(file["source"])
                if member is None:
                    raise SystemExit(f"{package['name']}: no file {file['source']} in the tarball")
                content = member.read()
                if sha256(content) != file["sha256"]:
                    raise SystemExit(f"{file['source']}: SHA-256 differs from the manifest")
                target = VENDOR / file["path"]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
        print(f"{package['name']}@{package['version']}: ok")  # noqa: T201 (a command's report)


def main(argv: list[str]) -> int:
    if "--check" not in argv:
        fetch()
    problems = check()
    for line in problems:
        print(line, file=sys.stderr)  # noqa: T201
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
