"""Mail to readers, sent by the task worker outside the request.

`mail_queue` is the one way the site sends mail: it queues the `mail_send` task once the current
transaction commits, so a request that rolls back sends nothing, and a request never waits for
SMTP nor fails because of it. The task sends through Django's default mailer (settings.MAILERS);
a failed attempt is tried again after each of settings.EMAIL_RETRY_DELAYS, then logged as lost.
"""

import hashlib
import logging
import os
import re
from datetime import timedelta
from functools import partial
from smtplib import SMTPException
from urllib.parse import urljoin

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.tasks import task
from django.utils import timezone

logger = logging.getLogger(__name__)


class MailNotSent(Exception):
    """Every attempt to send a mail failed; the task's result records it as failed."""


def absolute_url(path: str) -> str:
    """The address of `path` (as `reverse()` gives it) on the site, for links in mail."""
    return urljoin(settings.SITE_URL + "/", path.lstrip("/"))


def mail_destination() -> str:
    """Where the default mailer sends mail, in the words `make run` prints."""
    options = settings.MAILERS["default"].get("OPTIONS", {})
    if "host" in options:
        return f"Mail goes out through SMTP at {options['host']}:{options['port']}"
    path = os.path.relpath(options["file_path"], settings.BASE_DIR)
    return f"Mail is written to {path}/ (set EMAIL_HOST to send it)"


def recipient_redacted(address: str) -> str:
    """The address as logs show it: a digest of the whole address, and its domain.

    An operator asked about a lost mail hashes the address the same way to find it.
    """
    normalized = address.strip().lower()
    digest = hashlib.sha256(normalized.encode()).hexdigest()[:12]
    return f"{digest}@{normalized.rpartition('@')[2]}"


def mail_queue(
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    """Send a mail to one address once the current transaction commits (at once outside one).

    `text` is the plain body, `html` an optional alternative; `headers` are added as given
    (List-Unsubscribe, ...). Links in either body must be absolute (`absolute_url`).
    """
    transaction.on_commit(
        partial(_enqueue, to=to, subject=subject, text=text, html=html, headers=headers)
    )


def _enqueue(**mail) -> None:
    # The request has committed; a queue that cannot take the mail loses that mail only.
    try:
        mail_send.enqueue(**mail)
    except Exception as error:
        logger.error(
            "Mail %r to %s not queued: %s",
            mail["subject"],
            recipient_redacted(mail["to"]),
            _reason(error, mail["to"]),
        )


@task
def mail_send(
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    headers: dict[str, str] | None = None,
    attempt: int = 1,
) -> None:
    """Send one mail; on an SMTP or network failure, queue the next attempt or give up."""
    message = EmailMultiAlternatives(subject=subject, body=text, to=[to], headers=headers)
    if html is not None:
        message.attach_alternative(html, "text/html")
    # Handled outside the except block: the next attempt (run at once by the immediate backend)
    # and the final error then carry no traceback of this one, whose text names the recipient.
    error = _send(message)
    if error is not None:
        mail = {"to": to, "subject": subject, "text": text, "html": html, "headers": headers}
        _retry_or_give_up(error, mail, attempt=attempt)


def _send(message: EmailMultiAlternatives) -> Exception | None:
    """The SMTP or network error that stopped the message, if any."""
    try:
        message.send()
    except (SMTPException, OSError) as error:
        return error
    return None


def _retry_or_give_up(error: Exception, mail: dict, *, attempt: int) -> None:
    delays = settings.EMAIL_RETRY_DELAYS
    attempts = len(delays) + 1
    recipient = recipient_redacted(mail["to"])
    reason = _reason(error, mail["to"])
    if attempt >= attempts:
        logger.error(
            "Mail %r to %s not sent after %d attempts: %s",
            mail["subject"], recipient, attempts, reason,
        )
        raise MailNotSent(f"not sent to {recipient} after {attempts} attempts: {reason}")
    delay = delays[attempt - 1]
    logger.warning(
        "Mail %r to %s failed (attempt %d of %d), trying again in %d s: %s",
        mail["subject"], recipient, attempt, attempts, delay, reason,
    )
    retry = mail_send
    # A backend that cannot defer (the immediate one, in tests) tries again at once.
    if retry.get_backend().supports_defer:
        retry = retry.using(run_after=timezone.now() + timedelta(seconds=delay))
    retry.enqueue(**mail, attempt=attempt + 1)


def _reason(error: Exception, address: str) -> str:
    """The error for a log line, the recipient's address replaced by its redacted form."""
    text = f"{type(error).__name__}: {error}"
    return re.sub(re.escape(address), recipient_redacted(address), text, flags=re.IGNORECASE)
