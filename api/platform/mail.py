"""The mail outbox's sender: SMTP when configured; otherwise each mail is written to a file
under <data dir>/mail/<tenant>/ (development: that folder is the mail server, and
`delivered_mail` reads it). The log names the mail, never its content; once sent, the outbox
keeps no body."""

from __future__ import annotations

import smtplib
import threading
import time
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote, urlsplit

import structlog

from api.accounts.auth_store import AuthStore, Mail
from tenants.settings import Settings

log = structlog.get_logger(__name__)


class MailSender:
    """Sends what the tenants' outboxes hold, every few seconds, in a background thread."""

    def __init__(
        self, settings: Settings, stores: dict[str, AuthStore], interval: float = 2.0
    ) -> None:
        self.settings = settings
        self.stores = stores
        self.interval = interval
        self._stop = threading.Event()
        self._sending = threading.Lock()  # the background thread and a direct call, one at a time
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="mail-sender", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.send_pending()

    def send_pending(self) -> int:
        with self._sending:
            return self._send_pending()

    def _send_pending(self) -> int:
        sent = 0
        for tenant, store in self.stores.items():
            for mail in store.unsent_mail():
                error = None
                try:
                    self._deliver(tenant, mail)
                    sent += 1
                except (OSError, smtplib.SMTPException) as e:
                    error = f"{type(e).__name__}: {e}"
                    log.warning(
                        "mail_failed", tenant=tenant, mail_id=mail.id, error_type=type(e).__name__
                    )
                store.mark_mail(mail.id, datetime.now(UTC), error)
        return sent

    def _deliver(self, tenant: str, mail: Mail) -> None:
        message = EmailMessage()
        message["From"] = self.settings.mail_from
        message["To"] = mail.recipient
        message["Subject"] = mail.subject
        message.set_content(mail.body)
        if self.settings.smtp_url is None:
            folder = mail_folder(self.settings, tenant)
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{time.time_ns()}-{mail.id}.eml"  # named in the order delivered
            path.write_bytes(bytes(message))
            log.info("mail_written", tenant=tenant, mail_id=mail.id, path=str(Path(path)))
            return
        url = urlsplit(self.settings.smtp_url)
        smtp_class = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
        with smtp_class(url.hostname or "localhost", url.port or 25, timeout=30) as smtp:
            if url.scheme == "smtp":
                smtp.starttls() if smtp.has_extn("starttls") else None
            if url.username:
                smtp.login(unquote(url.username), unquote(url.password or ""))
            smtp.send_message(message)
        log.info("mail_sent", tenant=tenant, mail_id=mail.id)


def mail_folder(settings: Settings, tenant: str) -> Path:
    """Where mails to a tenant's users are delivered when no SMTP server is configured."""
    return settings.data_dir / "mail" / tenant


def delivered_mail(settings: Settings, tenant: str, recipient: str) -> list[EmailMessage]:
    """The mails delivered to `recipient` in the mail folder, oldest first (development and
    tests: what the recipient would have received)."""
    found = []
    for path in sorted(mail_folder(settings, tenant).glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if isinstance(message, EmailMessage) and message["To"] == recipient:
            found.append(message)
    return found
