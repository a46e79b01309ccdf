"""Signed, expiring session tokens, CSRF tokens, the secret that signs them, and the security
headers every response carries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from ipaddress import IPv4Network, IPv6Network, ip_address
from pathlib import Path

from litestar.enums import ScopeType
from litestar.types import Message, Scope

SESSION_COOKIE = "qcflow_session"
CSRF_COOKIE = "qcflow_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
"""The hidden field of the portal's forms that carries the CSRF token (htmx sends the header)."""

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none';"
    " object-src 'none'; frame-ancestors 'none'"
)
"""The portal is rendered on the server with its own static files and no inline script: adjust
here (one place) if it ever needs more."""
SECURITY_HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


def load_secret(configured: str | None, data_dir: Path) -> bytes:
    """The signing secret: QCFLOW_SECRET_KEY, or a random one kept (mode 0600) in the data
    directory on first start. Never a default value."""
    if configured:
        return configured.encode()
    path = data_dir / "secret.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip().encode()


class Signer:
    """Session tokens `v1.<tenant>.<session id>.<expiry>.<signature>` (HMAC-SHA256)."""

    OPENED_KEPT = 4096
    """Genuine tokens remembered once opened (then forgotten all at once): a signed-in client
    presents the same token on every request, and checking its signature again was a percent
    or two of a read's CPU. Only a token whose signature checked is kept, so what a caller
    makes up is checked every time; expiry, sign-out and revocation are checked per request
    after it is opened, as before."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        self._opened: dict[str, tuple[str, str, datetime]] = {}

    def _mac(self, message: str) -> str:
        mac = hmac.new(self._secret, message.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def session_token(self, tenant: str, session_id: str, expires_at: datetime) -> str:
        body = f"v1.{tenant}.{session_id}.{int(expires_at.timestamp())}"
        return f"{body}.{self._mac(body)}"

    def open_session_token(self, token: str) -> tuple[str, str, datetime] | None:
        """(tenant, session id, expiry) of a genuine token; None otherwise."""
        opened = self._opened.get(token)
        if opened is None:
            opened = self._open(token)
            if opened is not None:
                if len(self._opened) >= self.OPENED_KEPT:
                    self._opened.clear()
                self._opened[token] = opened
        return opened

    def _open(self, token: str) -> tuple[str, str, datetime] | None:
        parts = token.split(".")
        if len(parts) != 5 or parts[0] != "v1":
            return None
        body, signature = ".".join(parts[:4]), parts[4]
        if not hmac.compare_digest(self._mac(body), signature):
            return None
        try:
            expires_at = datetime.fromtimestamp(int(parts[3]), UTC)
        except ValueError:
            return None
        return parts[1], parts[2], expires_at

    def csrf_token(self, session_id: str) -> str:
        return self._mac(f"csrf.{session_id}")

    def check_csrf(self, session_id: str, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(self.csrf_token(session_id), presented)


async def security_headers(message: Message, scope: Scope) -> None:
    """Before-send hook: the security headers on every HTTP response, errors, unknown routes
    and downloads included (a header the route set itself is kept)."""
    if scope["type"] != ScopeType.HTTP or message["type"] != "http.response.start":
        return
    headers = list(message.get("headers", []))
    present = {bytes(name).lower() for name, _ in headers}
    headers += [(n, v) for n, v in SECURITY_HEADERS if n not in present]
    message["headers"] = headers


def client_address(scope: Scope, trusted: Sequence[IPv4Network | IPv6Network] = ()) -> str:
    """The client's address: the peer's, unless the peer is one of the `trusted` proxies; then
    the nearest address in X-Forwarded-For that is not a trusted proxy (anyone can write the
    header, so only what our own proxies added is believed)."""
    client = scope.get("client")
    peer = client[0] if client else "unknown"
    if not _trusted(peer, trusted):
        return peer
    forwarded: list[str] = []
    for name, value in scope.get("headers", []):
        if name.lower() == b"x-forwarded-for":
            forwarded += [p.strip() for p in value.decode("latin-1").split(",") if p.strip()]
    for hop in reversed(forwarded):
        if not _trusted(hop, trusted):
            return hop
    return forwarded[0] if forwarded else peer


def _trusted(host: str, trusted: Sequence[IPv4Network | IPv6Network]) -> bool:
    try:
        address = ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in trusted)
