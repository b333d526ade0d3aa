from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from articles.cache import article_page_version
from comments.models import Comment, Report, reporter_key
from comments.services import comments_approve, report_create
from tests.factories import make_article, make_comment

pytestmark = pytest.mark.django_db


def report_url(comment):
    return reverse("comments:report", args=[comment.article.slug, comment.pk])


def permalink(comment):
    return reverse("articles:comment_permalink", args=[comment.article.slug, comment.pk])


def messages_of(response):
    return [str(message) for message in response.wsgi_request._messages]


def test_the_report_page_lists_the_reasons_and_shows_the_comment_escaped(client):
    comment = make_comment(make_article(), body="<script>alert(1)</script> rude words")

    response = client.get(report_url(comment))

    html = response.content.decode()
    assert response.status_code == 200
    for label in ("Spam", "Abuse or personal attack", "Off-topic", "Other"):
        assert label in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; rude words" in html
    assert "<script>alert" not in html
    assert comment.author_email not in html
    assert "style=" not in html and " onclick" not in html


def test_a_report_is_recorded_and_the_reader_sent_back_with_thanks(client):
    comment = make_comment(make_article())

    response = client.post(
        report_url(comment), {"reason": "abuse", "detail": "Personal attack."},
        REMOTE_ADDR="198.51.100.20",
    )

    assert response.status_code == 302
    assert response.url == permalink(comment)
    report = Report.objects.get()
    assert (report.comment, report.reason, report.detail) == (comment, "abuse", "Personal attack.")
    assert report.ip_address == "198.51.100.20"
    assert report.reporter == "ip:198.51.100.20"
    assert "Thank you for your report" in messages_of(response)[0]


def test_a_second_report_from_the_same_session_is_not_counted(client):
    comment = make_comment(make_article())
    client.post(report_url(comment), {"reason": "spam"})

    response = client.post(report_url(comment), {"reason": "abuse"})

    assert response.status_code == 302
    assert Report.objects.count() == 1
    assert "already reported" in messages_of(response)[-1]


def test_fresh_sessions_from_one_address_count_as_one_reporter():
    comment = make_comment(make_article())
    Client(REMOTE_ADDR="203.0.113.7").post(report_url(comment), {"reason": "spam"})

    response = Client(REMOTE_ADDR="203.0.113.7").post(report_url(comment), {"reason": "abuse"})

    assert response.status_code == 302
    assert messages_of(response) == ["You have already reported this comment. Thank you."]
    assert Report.objects.get().reason == "spam"


def test_other_addresses_may_report_the_same_comment():
    comment = make_comment(make_article())

    for address in ("203.0.113.7", "203.0.113.8"):
        Client(REMOTE_ADDR=address).post(report_url(comment), {"reason": "spam"})

    assert Report.objects.filter(comment=comment).count() == 2


def test_ipv6_addresses_count_by_their_64_network():
    comment = make_comment(make_article())

    for address in ("2001:db8:1:2::1", "2001:db8:1:2:ffff::9", "2001:db8:1:3::1"):
        Client(REMOTE_ADDR=address).post(report_url(comment), {"reason": "spam"})

    assert sorted(Report.objects.values_list("reporter", flat=True)) == [
        "ip6:2001:db8:1:2::/64",
        "ip6:2001:db8:1:3::/64",
    ]


@pytest.mark.parametrize(
    ("ip_address", "key"),
    [
        ("203.0.113.7", "ip:203.0.113.7"),
        ("::ffff:203.0.113.7", "ip:203.0.113.7"),
        ("2001:db8:1:2:3:4:5:6", "ip6:2001:db8:1:2::/64"),
        (None, "ip:unknown"),
    ],
)
def test_reporter_key(ip_address, key):
    assert reporter_key(ip_address=ip_address) == key


@pytest.mark.parametrize("fields", [{}, {"reason": "boring"}, {"reason": "other",
                                                                "detail": "x" * 501}])
def test_a_bad_report_shows_the_form_again(client, fields):
    comment = make_comment(make_article())

    response = client.post(report_url(comment), fields)

    assert response.status_code == 400
    assert response.context["form"].errors
    assert 'class="errorlist"' in response.content.decode()
    assert Report.objects.count() == 0


@pytest.mark.parametrize("status", [Comment.Status.PENDING, Comment.Status.REMOVED])
def test_a_hidden_comment_cannot_be_reported(client, status):
    comment = make_comment(make_article(), status=status)

    assert client.post(report_url(comment), {"reason": "spam"}).status_code == 404
    assert client.get(report_url(comment)).status_code == 404
    assert Report.objects.count() == 0


def test_an_unknown_comment_is_404(client):
    article = make_article()

    url = reverse("comments:report", args=[article.slug, 999999])
    assert client.get(url).status_code == 404


def test_reporting_needs_csrf():
    comment = make_comment(make_article())

    response = Client(enforce_csrf_checks=True).post(report_url(comment), {"reason": "spam"})

    assert response.status_code == 403
    assert Report.objects.count() == 0


def queue(mod_client):
    response = mod_client.get(reverse("admin:comments_commentqueue_changelist"))
    assert response.status_code == 200
    return [(c.pk, c.held) for c in response.context["cl"].result_list]


def test_reports_at_the_threshold_keep_the_comment_visible_and_first_in_the_queue(
    settings, mod_client, django_capture_on_commit_callbacks
):
    settings.COMMENTS_REPORT_THRESHOLD = 3
    article = make_article()
    now = timezone.now()
    pending = make_comment(article, status="pending", created=now - timedelta(days=2))
    reported = make_comment(article, created=now - timedelta(hours=1))
    version = article_page_version(article.pk)

    with django_capture_on_commit_callbacks(execute=True):
        for n in range(1, 3):
            report_create(comment=reported, reason="spam", detail="",
                          ip_address=f"198.51.100.{n}")
        # The most reported first, even below the threshold.
        assert queue(mod_client) == [(reported.pk, False), (pending.pk, False)]
        report_create(comment=reported, reason="spam", detail="", ip_address="198.51.100.3")

    assert Comment.objects.get(pk=reported.pk).status == Comment.Status.PUBLISHED
    assert article_page_version(article.pk) == version
    assert queue(mod_client) == [(reported.pk, True), (pending.pk, False)]
    assert ">3</a> (held): spam</td>" in mod_client.get(
        reverse("admin:comments_commentqueue_changelist")
    ).content.decode()


def test_reports_from_three_sessions_of_one_address_do_not_reach_the_threshold(
    settings, mod_client
):
    settings.COMMENTS_REPORT_THRESHOLD = 3
    comment = make_comment(make_article())

    for _ in range(3):
        Client(REMOTE_ADDR="203.0.113.7").post(report_url(comment), {"reason": "abuse"})

    assert Report.objects.filter(comment=comment).count() == 1
    assert queue(mod_client) == [(comment.pk, False)]


def test_a_comment_held_by_reports_stays_on_the_page(settings, client):
    settings.COMMENTS_REPORT_THRESHOLD = 2
    comment = make_comment(make_article(), body="A reported but visible opinion.")

    for address in ("203.0.113.7", "203.0.113.8"):
        Client(REMOTE_ADDR=address).post(report_url(comment), {"reason": "abuse"})

    assert Comment.objects.get(pk=comment.pk).status == Comment.Status.PUBLISHED
    page = client.get(comment.article.get_absolute_url())
    assert "A reported but visible opinion." in page.content.decode()


def test_reports_dismissed_by_a_moderator_do_not_count_again(settings, mod_client):
    settings.COMMENTS_REPORT_THRESHOLD = 2
    comment = make_comment(make_article())
    for address in ("198.51.100.1", "198.51.100.2"):
        report_create(comment=comment, reason="spam", detail="", ip_address=address)
    comments_approve(comments=Comment.objects.filter(pk=comment.pk), moderator=None)

    report_create(comment=comment, reason="spam", detail="", ip_address="198.51.100.3")

    assert queue(mod_client) == [(comment.pk, False)]
    assert Comment.objects.get(pk=comment.pk).status == Comment.Status.PUBLISHED


def test_a_duplicate_report_returns_already_reported():
    comment = make_comment(make_article())
    report_create(comment=comment, reason="spam", detail="", ip_address="198.51.100.1")

    result = report_create(comment=comment, reason="other", detail="", ip_address="198.51.100.1")

    assert result.already_reported
    assert Report.objects.get().reason == "spam"


def test_one_address_cannot_flood_reports_from_fresh_sessions(settings):
    settings.COMMENT_RATE_LIMIT = "2/60"
    settings.COMMENTS_REPORT_THRESHOLD = 3
    comment = make_comment(make_article())

    statuses = [
        Client().post(report_url(comment), {"reason": "spam"}).status_code for _ in range(3)
    ]

    assert statuses == [302, 302, 429]
    assert Report.objects.filter(comment=comment).count() == 1
    assert Comment.objects.get(pk=comment.pk).status == Comment.Status.PUBLISHED
    response = Client().post(report_url(comment), {"reason": "spam"})
    assert "sent several reports" in response.content.decode()
    assert 1 <= int(response["Retry-After"]) <= 60
    # Another address is not affected.
    other = Client(REMOTE_ADDR="198.51.100.20").post(report_url(comment), {"reason": "spam"})
    assert other.status_code == 302


@pytest.mark.django_db(transaction=True)
def test_the_migration_counts_existing_reports_once_per_reporter():
    # The comment is made with today's models, before the schema goes back.
    comment = make_comment(make_article())
    executor = MigrationExecutor(connection)
    before = [("comments", "0003_moderators_group")]
    after = [("comments", "0005_report_once_per_reporter")]
    # Made with today's models, before the schema goes back to theirs.
    comment = make_comment(make_article())
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    OldReport = old.get_model("comments", "Report")
    for session, address, resolved in [
        ("a", "203.0.113.7", True),
        ("b", "203.0.113.7", False),
        ("c", "203.0.113.8", True),
        ("d", "2001:db8:1:2::1", False),
        ("e", "2001:db8:1:2::2", False),
    ]:
        OldReport.objects.create(
            comment_id=comment.pk, reason="spam", session_key=session, ip_address=address,
            resolved=resolved,
        )

    executor = MigrationExecutor(connection)
    executor.migrate(after)

    assert list(Report.objects.values_list("reporter", "resolved")) == [
        ("ip:203.0.113.7", False),
        ("ip:203.0.113.8", True),
        ("ip6:2001:db8:1:2::/64", False),
    ]
    # Going back, each reporter is the session key the old constraint counted.
    MigrationExecutor(connection).migrate(before)
    assert sorted(OldReport.objects.values_list("session_key", flat=True)) == [
        "ip6:2001:db8:1:2::/64", "ip:203.0.113.7", "ip:203.0.113.8",
    ]
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
