from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from comments.models import Comment, ReplyNotice, Report, UnconfirmedComment
from comments.retention import FORGOTTEN_REPORTER_PREFIX, personal_data_purge
from comments.services import report_create
from tests.factories import make_article, make_comment, make_reader

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def days_ago(days: float):
    return NOW - timedelta(days=days)


def purge(*args) -> str:
    out = StringIO()
    call_command("purge_personal_data", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def stored(settings):
    """Comments and reports on both sides of the 90 days, an unconfirmed comment on both
    sides of a week, and reply notices on both sides of 30 days."""
    settings.COMMENTS_IP_RETENTION_DAYS = 90
    article = make_article()
    old = make_comment(
        article, created=days_ago(91), ip_address="192.0.2.1", user_agent="Old browser"
    )
    make_comment(article, created=days_ago(92), user_agent="Agent only")
    recent = make_comment(
        article, created=days_ago(89), ip_address="192.0.2.2", user_agent="New browser"
    )
    for comment, address in ((old, "198.51.100.7"), (recent, "2001:db8::1")):
        report_create(comment=comment, reason="spam", detail="", ip_address=address)
    report_create(comment=recent, reason="abuse", detail="", ip_address="198.51.100.8")
    Report.objects.filter(comment=old).update(created=days_ago(91))
    Report.objects.filter(ip_address="198.51.100.8").update(created=days_ago(91))
    Report.objects.filter(ip_address="2001:db8::1").update(created=days_ago(60))
    for body, age in (("unconfirmed old", 8), ("unconfirmed new", 6)):
        UnconfirmedComment.objects.create(
            article=article,
            author_name="Guest",
            author_email="guest@example.com",
            body=body,
            created=days_ago(age),
            nonce=body,
        )
    reader = make_reader()
    for sent in (days_ago(31), days_ago(29), None):
        ReplyNotice.objects.create(
            recipient=reader.commenter,
            reply=make_comment(article, parent=old),
            thread=old,
            due=NOW,
            sent=sent,
        )
    return {"old": old, "recent": recent}


def test_a_dry_run_counts_and_changes_nothing(stored):
    before = list(Comment.objects.values_list("pk", "ip_address", "user_agent"))
    reports = list(Report.objects.values_list("pk", "ip_address", "reporter"))

    output = purge("--dry-run")

    assert output == (
        "Would clear the IP address and user agent of 2 comments older than 90 days.\n"
        "Would clear the IP address of 2 reports older than 90 days.\n"
        "Would delete 1 unconfirmed comment older than 7 days.\n"
        "Would delete 1 reply notice mailed more than 30 days ago.\n"
    )
    assert list(Comment.objects.values_list("pk", "ip_address", "user_agent")) == before
    assert list(Report.objects.values_list("pk", "ip_address", "reporter")) == reports
    assert UnconfirmedComment.objects.count() == 2
    assert ReplyNotice.objects.count() == 3


def test_the_purge_clears_old_addresses_and_keeps_recent_ones(stored):
    output = purge()

    assert output.splitlines()[0] == (
        "Cleared the IP address and user agent of 2 comments older than 90 days."
    )
    old, recent = (Comment.objects.get(pk=stored[name].pk) for name in ("old", "recent"))
    assert (old.ip_address, old.user_agent) == (None, "")
    assert not Comment.objects.filter(user_agent="Agent only").exists()
    assert (recent.ip_address, recent.user_agent) == ("192.0.2.2", "New browser")
    old_reports = Report.objects.filter(created__lt=days_ago(90))
    assert [report.ip_address for report in old_reports] == [None, None]
    for report in old_reports:
        assert report.reporter.startswith(FORGOTTEN_REPORTER_PREFIX)
        assert "198.51.100" not in report.reporter
    assert Report.objects.get(comment=stored["recent"], reason="spam").reporter == (
        "ip6:2001:db8::/64"
    )
    assert list(UnconfirmedComment.objects.values_list("body", flat=True)) == [
        "unconfirmed new"
    ]
    assert ReplyNotice.objects.filter(sent__lt=days_ago(30)).count() == 0
    assert ReplyNotice.objects.count() == 2


def test_a_second_run_changes_nothing(stored):
    purge()
    snapshot = (
        list(Comment.objects.values_list("pk", "ip_address", "user_agent")),
        list(Report.objects.values_list("pk", "ip_address", "reporter")),
    )

    assert purge() == "Nothing to clear or delete.\n"
    assert purge("--verbosity", "2").splitlines()[0] == (
        "Cleared the IP address and user agent of 0 comments older than 90 days."
    )
    assert (
        list(Comment.objects.values_list("pk", "ip_address", "user_agent")),
        list(Report.objects.values_list("pk", "ip_address", "reporter")),
    ) == snapshot


def test_quiet_output_at_verbosity_zero(stored):
    assert purge("--verbosity", "0") == ""
    assert not Comment.objects.filter(created__lt=days_ago(90), ip_address__isnull=False)


def test_the_retention_setting_moves_the_limit(stored, settings):
    settings.COMMENTS_IP_RETENTION_DAYS = 30

    counts = personal_data_purge(dry_run=True)

    assert counts.comments_cleared == 3
    assert counts.reports_cleared == 3


def test_a_cleared_reporter_still_counts_once(stored):
    old = stored["old"]
    purge()

    again = report_create(comment=old, reason="spam", detail="", ip_address="203.0.113.9")

    assert again.report is not None
    assert Report.objects.filter(comment=old).values("reporter").distinct().count() == 2


def test_the_purge_runs_a_fixed_number_of_queries(stored, django_assert_max_num_queries):
    article = stored["old"].article
    for n in range(20):
        make_comment(article, created=days_ago(100), ip_address=f"192.0.2.{n + 10}")
    with django_assert_max_num_queries(12):
        personal_data_purge()
