"""Signed, expiring session tokens, CSRF tokens, and the secret that signs them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path

SESSION_COOKIE = "qcflow_session"
CSRF_COOKIE = "qcflow_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
"""The hidden field of the portal's forms that carries the CSRF token (htmx sends the header)."""


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

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, message: str) -> str:
        mac = hmac.new(self._secret, message.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def session_token(self, tenant: str, session_id: str, expires_at: datetime) -> str:
        body = f"v1.{tenant}.{session_id}.{int(expires_at.timestamp())}"
        return f"{body}.{self._mac(body)}"

    def open_session_token(self, token: str) -> tuple[str, str, datetime] | None:
        """(tenant, session id, expiry) of a genuine token; None otherwise."""
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
