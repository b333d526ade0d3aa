import pytest
from django.test import Client
from django.urls import reverse

from articles.cache import article_page_version
from comments.models import Comment, Report
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
    assert report.session_key == client.session.session_key
    assert "Thank you for your report" in messages_of(response)[0]


def test_a_second_report_from_the_same_session_is_not_counted(client):
    comment = make_comment(make_article())
    client.post(report_url(comment), {"reason": "spam"})

    response = client.post(report_url(comment), {"reason": "abuse"})

    assert response.status_code == 302
    assert Report.objects.count() == 1
    assert "already reported" in messages_of(response)[-1]


def test_other_sessions_may_report_the_same_comment():
    comment = make_comment(make_article())

    for _ in range(2):
        Client().post(report_url(comment), {"reason": "spam"})

    assert Report.objects.filter(comment=comment).count() == 2


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


def test_the_threshold_holds_the_comment_for_review(
    settings, django_capture_on_commit_callbacks
):
    settings.COMMENTS_REPORT_THRESHOLD = 3
    comment = make_comment(make_article())
    version = article_page_version(comment.article_id)

    for n in range(1, 3):
        result = report_create(comment=comment, reason="spam", detail="", session_key=f"s{n}",
                               ip_address=None)
        assert not result.held
    assert Comment.objects.get(pk=comment.pk).status == Comment.Status.PUBLISHED
    with django_capture_on_commit_callbacks(execute=True):
        result = report_create(comment=comment, reason="spam", detail="", session_key="s3",
                               ip_address=None)

    assert result.held
    assert Comment.objects.get(pk=comment.pk).status == Comment.Status.PENDING
    assert article_page_version(comment.article_id) == version + 1


def test_the_threshold_through_the_page(settings):
    settings.COMMENTS_REPORT_THRESHOLD = 2
    comment = make_comment(make_article())

    for _ in range(2):
        Client().post(report_url(comment), {"reason": "abuse"})

    assert Comment.objects.get(pk=comment.pk).status == Comment.Status.PENDING


def test_reports_dismissed_by_a_moderator_do_not_count_again(settings):
    settings.COMMENTS_REPORT_THRESHOLD = 2
    comment = make_comment(make_article())
    for key in ("a", "b"):
        report_create(comment=comment, reason="spam", detail="", session_key=key, ip_address=None)
    comments_approve(comments=Comment.objects.filter(pk=comment.pk), moderator=None)

    result = report_create(comment=comment, reason="spam", detail="", session_key="c",
                           ip_address=None)

    assert not result.held
    assert Comment.objects.get(pk=comment.pk).status == Comment.Status.PUBLISHED


def test_a_duplicate_report_returns_already_reported():
    comment = make_comment(make_article())
    report_create(comment=comment, reason="spam", detail="", session_key="k", ip_address=None)

    result = report_create(comment=comment, reason="other", detail="", session_key="k",
                           ip_address=None)

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
    assert Report.objects.filter(comment=comment).count() == 2
    assert Comment.objects.get(pk=comment.pk).status == Comment.Status.PUBLISHED
    response = Client().post(report_url(comment), {"reason": "spam"})
    assert "sent several reports" in response.content.decode()
    assert 1 <= int(response["Retry-After"]) <= 60
    # Another address is not affected.
    other = Client(REMOTE_ADDR="198.51.100.20").post(report_url(comment), {"reason": "spam"})
    assert other.status_code == 302
