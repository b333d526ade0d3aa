import contextlib
import logging
import socket
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.core import mail
from django.db import DatabaseError, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from newsroom.mail import absolute_url, mail_queue, mail_send, recipient_redacted
from tests.processes import ROOT, SECRET, db_worker, django_process, task_statuses

DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
READER = "reader@example.org"


class Rollback(Exception):
    pass


def a_mail(**changes) -> dict:
    return {"to": READER, "subject": "Your comment", "text": "Thank you.", **changes}


def mail_records(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "newsroom.mail"]


@pytest.mark.django_db
def test_mail_is_sent_only_once_the_transaction_commits(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        mail_queue(**a_mail())
        assert mail.outbox == []

    [message] = mail.outbox
    assert message.to == [READER]
    assert message.subject == "Your comment"


@pytest.mark.django_db
def test_a_transaction_that_rolls_back_sends_nothing(django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        contextlib.suppress(Rollback),
        transaction.atomic(),
    ):
        mail_queue(**a_mail())
        raise Rollback

    assert callbacks == []
    assert mail.outbox == []


@pytest.mark.django_db
def test_the_mail_has_a_plain_text_and_an_html_alternative_and_the_given_headers(
    settings, committing
):
    settings.DEFAULT_FROM_EMAIL = "Newsroom <news@example.org>"
    headers = {"List-Unsubscribe": "<https://news.example.org/unsubscribe/abc>"}

    committing(mail_queue, **a_mail(html="<p>Thank you.</p>", headers=headers))

    [message] = mail.outbox
    assert message.from_email == "Newsroom <news@example.org>"
    assert message.body == "Thank you."
    assert [(a.content, a.mimetype) for a in message.alternatives] == [
        ("<p>Thank you.</p>", "text/html")
    ]
    assert message.message()["List-Unsubscribe"] == "<https://news.example.org/unsubscribe/abc>"


@pytest.mark.django_db
def test_a_mail_without_html_is_plain_text(committing):
    committing(mail_queue, **a_mail())

    [message] = mail.outbox
    assert message.alternatives == []
    assert message.message().get_content_type() == "text/plain"


@pytest.mark.parametrize("site_url", ["https://news.example.org", "https://example.org/news"])
def test_links_in_mail_are_absolute_on_site_url(settings, site_url):
    settings.SITE_URL = site_url
    assert absolute_url("/articles/a-story/") == f"{site_url}/articles/a-story/"
    assert absolute_url("comments/confirm/x") == f"{site_url}/comments/confirm/x"


def test_logs_show_a_digest_of_the_recipient_and_its_domain():
    redacted = recipient_redacted(READER)
    assert redacted.endswith("@example.org")
    assert "reader" not in redacted
    assert recipient_redacted(" Reader@Example.org ") == redacted


def test_without_email_host_mail_is_written_to_files_under_var_mail():
    mail_dir = ROOT / "var" / "mail"
    before = set(mail_dir.glob("*")) if mail_dir.exists() else set()
    result = django_process(
        {**SECRET, "EMAIL_HOST": ""},
        """
        from newsroom.mail import mail_send
        mail_send.call(to="reader@example.org", subject="Kept on disk", text="In a file.")
        """,
    )
    assert result.returncode == 0, result.stderr
    [written] = set(mail_dir.glob("*")) - before
    try:
        content = written.read_text()
    finally:
        written.unlink()
    assert "Subject: Kept on disk" in content
    assert "To: reader@example.org" in content
    assert "In a file." in content


def test_email_variables_configure_the_smtp_mailer():
    result = django_process(
        {
            **SECRET,
            "EMAIL_HOST": "smtp.example.org",
            "EMAIL_USE_TLS": "1",
            "EMAIL_HOST_USER": "newsroom",
            "EMAIL_HOST_PASSWORD": "secret",
            "DEFAULT_FROM_EMAIL": "News <news@example.org>",
            "SITE_URL": "https://news.example.org/",
        },
        """
        from django.conf import settings as s
        from django.core.mail import mailers
        m = mailers.default
        print(type(m).__module__, m.host, m.port, m.username, m.password, m.use_tls, m.use_ssl,
              m.timeout)
        print(s.DEFAULT_FROM_EMAIL)
        print(s.SITE_URL)
        """,
    )
    assert result.returncode == 0, result.stderr
    mailer, sender, site = result.stdout.splitlines()
    # Port 587 for STARTTLS when EMAIL_PORT is unset; ten seconds for a stalled server.
    assert mailer.split() == [
        "django.core.mail.backends.smtp", "smtp.example.org", "587", "newsroom", "secret",
        "True", "False", "10",
    ]
    assert sender == "News <news@example.org>"
    assert site == "https://news.example.org"


def test_empty_mail_variables_keep_their_defaults():
    # docker-compose.yml passes every variable on, empty when the operator did not set it.
    result = django_process(
        {
            **SECRET,
            **dict.fromkeys(
                ["EMAIL_HOST", "EMAIL_PORT", "EMAIL_TIMEOUT", "EMAIL_RETRY_DELAYS",
                 "DEFAULT_FROM_EMAIL", "SITE_URL"],
                "",
            ),
        },
        """
        from django.conf import settings as s
        from newsroom.mail import mail_destination
        print(mail_destination())
        print(s.EMAIL_RETRY_DELAYS, s.DEFAULT_FROM_EMAIL, s.SITE_URL, sep="|")
        """,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Mail is written to var/mail/ (set EMAIL_HOST to send it)",
        "[60, 300, 1800]|Newsroom <newsroom@localhost>|http://127.0.0.1:8000",
    ]


def test_make_run_says_which_smtp_server_mail_goes_through():
    result = django_process(
        {**SECRET, "EMAIL_HOST": "smtp.example.org", "EMAIL_USE_SSL": "yes"},
        "from newsroom.mail import mail_destination; print(mail_destination())",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Mail goes out through SMTP at smtp.example.org:465"


@pytest.mark.django_db
def test_mail_goes_out_through_smtp(settings, smtp_server, committing):
    settings.MAILERS = smtp_server.mailers()

    committing(mail_queue, **a_mail(html="<p>Thank you.</p>"))

    [(recipients, message)] = smtp_server.wait_for_messages(1)
    assert recipients == [READER]
    assert message["Subject"] == "Your comment"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "refusal", ["550 5.1.1 <reader@example.org>: no such user", "451 4.3.2 Try again later"]
)
def test_a_refused_mail_is_retried_then_logged_as_failed(
    settings, smtp_server, caplog, committing, refusal
):
    settings.MAILERS = smtp_server.mailers()
    settings.EMAIL_RETRY_DELAYS = [60, 300]
    smtp_server.refusal = refusal

    with caplog.at_level(logging.INFO):
        committing(mail_queue, **a_mail())  # returns: the caller never fails because of the mail

    assert smtp_server.attempts == 3
    assert smtp_server.messages == []
    records = mail_records(caplog)
    assert [record.levelname for record in records] == ["WARNING", "WARNING", "ERROR"]
    assert "(attempt 1 of 3), trying again in 60 s" in records[0].getMessage()
    assert "(attempt 2 of 3), trying again in 300 s" in records[1].getMessage()
    assert "not sent after 3 attempts: SMTPRecipientsRefused" in records[2].getMessage()
    assert refusal.split()[0] in records[2].getMessage()
    # The task's result is failed, and no line the site logs names the reader.
    site_logs = [r for r in caplog.records if r.name in {"newsroom.mail", "django.tasks"}]
    assert any("state=FAILED" in r.getMessage() for r in site_logs)
    assert all(READER not in logging.Formatter().format(record) for record in site_logs)
    assert recipient_redacted(READER) in records[2].getMessage()


@pytest.mark.django_db
def test_a_stalled_server_times_out_and_the_mail_is_retried_then_logged(
    settings, smtp_server, caplog, committing
):
    settings.MAILERS = smtp_server.mailers(timeout=1)
    settings.EMAIL_RETRY_DELAYS = [60]
    smtp_server.stalling = True

    started = time.monotonic()
    committing(mail_queue, **a_mail())
    elapsed = time.monotonic() - started

    assert smtp_server.attempts == 2
    # Each attempt waits for EMAIL_TIMEOUT, not for the server.
    assert 2 <= elapsed < 10
    records = mail_records(caplog)
    assert [record.levelname for record in records] == ["WARNING", "ERROR"]
    assert "not sent after 2 attempts: SMTPServerDisconnected" in records[1].getMessage()
    assert "timed out" in records[1].getMessage()


@pytest.mark.django_db
def test_a_server_that_is_not_there_is_retried_then_logged(settings, caplog, committing):
    with socket_nobody_listens_on() as port:
        settings.MAILERS = {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 1},
            }
        }
        settings.EMAIL_RETRY_DELAYS = [0]
        committing(mail_queue, **a_mail())

    records = mail_records(caplog)
    assert [record.levelname for record in records] == ["WARNING", "ERROR"]
    assert "ConnectionRefusedError" in records[1].getMessage()


@pytest.mark.django_db
def test_on_the_database_queue_a_failed_attempt_is_queued_again_after_the_delay(
    settings, smtp_server
):
    settings.TASKS = DATABASE_QUEUE
    settings.MAILERS = smtp_server.mailers()
    settings.EMAIL_RETRY_DELAYS = [60, 300]
    smtp_server.refusal = "451 4.3.2 Try again later"

    mail_send.call(**a_mail(), attempt=2)

    [retry] = DBTaskResult.objects.all()
    assert retry.task_path == "newsroom.mail.mail_send"
    assert retry.status == "READY"
    assert retry.args_kwargs["kwargs"] == {**a_mail(), "html": None, "headers": None, "attempt": 3}
    expected = timezone.now() + timedelta(seconds=300)
    assert abs(retry.run_after - expected) < timedelta(seconds=5)
    # Not ready before its time.
    assert not DBTaskResult.objects.ready().exists()


@pytest.mark.django_db
def test_a_queue_that_fails_loses_the_mail_not_the_request(
    settings, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    settings.TASKS = DATABASE_QUEUE

    def broken(*args, **kwargs):
        raise DatabaseError("database is locked")

    monkeypatch.setattr(DBTaskResult.objects, "create", broken)

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        mail_queue(**a_mail())

    [record] = mail_records(caplog)
    assert record.levelname == "ERROR"
    assert record.getMessage() == (
        f"Mail 'Your comment' to {recipient_redacted(READER)} not queued: "
        "DatabaseError: database is locked"
    )


@contextlib.contextmanager
def socket_nobody_listens_on() -> Iterator[int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        yield probe.getsockname()[1]


# The real queue: a database that the test and the worker process share, and the worker.


def queue_in_child(env: dict[str, str], **mail) -> None:
    """mail_queue in a process of its own (a request's), on the shared database."""
    result = django_process(
        {**SECRET, **env},
        f"""
        from django.db import transaction
        from newsroom.mail import absolute_url, mail_queue
        mail = {mail!r}
        mail["text"] = mail["text"].format(link=absolute_url("/articles/a-story/"))
        if "html" in mail:
            mail["html"] = mail["html"].format(link=absolute_url("/articles/a-story/"))
        with transaction.atomic():
            mail_queue(**mail)
        """,
    )
    assert result.returncode == 0, result.stderr


def test_the_worker_sends_queued_mail_through_smtp(queue_database, smtp_server, tmp_path):
    env = {
        **queue_database,
        **smtp_server.environment(),
        "SITE_URL": "https://news.example.org",
        "DEFAULT_FROM_EMAIL": "Newsroom <news@example.org>",
    }
    unsubscribe = "<https://news.example.org/unsubscribe/abc>"

    with db_worker(env, tmp_path / "worker.log"):
        queue_in_child(
            env,
            to=READER,
            subject="A reply to your comment",
            text="Read it: {link}",
            html='<p><a href="{link}">Read it</a></p>',
            headers={"List-Unsubscribe": unsubscribe},
        )
        [(recipients, message)] = smtp_server.wait_for_messages(1)

    assert recipients == [READER]
    assert message["Subject"] == "A reply to your comment"
    assert message["From"] == "Newsroom <news@example.org>"
    assert message["To"] == READER
    assert message["List-Unsubscribe"] == unsubscribe
    assert message["Message-ID"]
    assert message.get_content_type() == "multipart/alternative"
    plain, html = message.iter_parts()
    assert plain.get_content_type() == "text/plain"
    assert plain.get_content().strip() == "Read it: https://news.example.org/articles/a-story/"
    assert html.get_content_type() == "text/html"
    assert 'href="https://news.example.org/articles/a-story/"' in html.get_content()
    assert task_statuses(env) == ["SUCCESSFUL"]


def test_the_worker_retries_a_refused_mail_then_records_it_as_failed(
    queue_database, smtp_server, tmp_path
):
    env = {**queue_database, **smtp_server.environment(), "EMAIL_RETRY_DELAYS": "0,1"}
    smtp_server.refusal = "451 4.3.2 Try again later"
    log = tmp_path / "worker.log"

    with db_worker(env, log):
        queue_in_child(env, to=READER, subject="Refused", text="{link}")
        deadline = time.monotonic() + 30
        while "not sent after 3 attempts" not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)

    assert smtp_server.attempts == 3
    output = log.read_text()
    assert "(attempt 1 of 3), trying again in 0 s" in output
    assert "(attempt 2 of 3), trying again in 1 s" in output
    assert READER not in output
    # Two attempts queued again behind the failed ones, the last recorded as failed.
    assert task_statuses(env) == ["SUCCESSFUL", "SUCCESSFUL", "FAILED"]
