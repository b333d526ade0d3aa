"""The markup of the discussion, and of one comment's body and date wherever it shows."""

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.urls import reverse

from comments.rendering import created_html
from tests.factories import make_article, make_comment

pytestmark = pytest.mark.django_db

CREATED = datetime(2026, 3, 4, 5, 6, 7, 891234, tzinfo=UTC)
BODY_RE = re.compile(r'<div class="comment-body">.*?</div>', re.DOTALL)
TIME_RE = re.compile(r"<time [^>]*>[^<]*</time>")


def test_dates_have_one_format_and_a_datetime_html_accepts(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    assert created_html(CREATED) == (
        '<time datetime="2026-03-04T06:06:07+01:00">4 Mar 2026, 06:06</time>'
    )
    assert created_html(None) == ""


def test_reply_links_name_the_author_for_the_inline_form(client):
    article = make_article()
    comment = make_comment(article, author_name='Ann "the <b>" O\'Neil')
    html = client.get(article.get_absolute_url()).content.decode()
    reply = reverse("comments:reply", args=[article.slug, comment.pk])
    assert (
        f'<a class="reply-link" data-comment-id="{comment.pk}" href="{reply}" '
        'data-author="Ann &quot;the &lt;b&gt;&quot; O&#x27;Neil">Reply</a>'
    ) in html


def test_reply_and_report_pages_show_body_and_date_as_the_discussion_does(client):
    article = make_article()
    comment = make_comment(
        article, body="See https://example.org/x\nnow\n\nand <this>", created=CREATED
    )
    pages = [
        article.get_absolute_url(),
        reverse("comments:reply", args=[article.slug, comment.pk]),
        reverse("comments:report", args=[article.slug, comment.pk]),
    ]
    shown = []
    for url in pages:
        html = client.get(url).content.decode()
        html = html[html.index(f'id="comment-{comment.pk}"') :] if url == pages[0] else html
        shown.append((BODY_RE.search(html).group(), TIME_RE.search(html).group()))
    assert shown[0] == (
        '<div class="comment-body"><p>See <a href="https://example.org/x" '
        'rel="nofollow ugc noopener">https://example.org/x</a><br>now</p>'
        "<p>and &lt;this&gt;</p></div>",
        created_html(CREATED),
    )
    assert shown[1] == shown[0]
    assert shown[2] == shown[0]


def test_the_inline_reply_script_reads_the_attribute_the_markup_writes():
    script = (Path(__file__).resolve().parents[2] / "static" / "js" / "comments.js").read_text()
    assert "link.dataset.author" in script


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("show", "reason", "expected"),
    [
        (1, "abusive", "Removed by a moderator: personal attack"),
        (1, "hate_speech", "Removed by a moderator: hate speech"),
        (1, "other", "[removed]"),
        (1, "", "[removed]"),
        (0, "abusive", "[removed]"),
    ],
)
def test_the_removed_placeholder_says_why_unless_switched_off(
    client, settings, django_assert_max_num_queries, show, reason, expected
):
    settings.COMMENTS_SHOW_REMOVAL_REASONS = show
    settings.ARTICLE_PAGE_CACHE_SECONDS = 0
    article = make_article()
    removed = make_comment(article, status="removed", removal_reason=reason)
    make_comment(article, parent=removed)

    with django_assert_max_num_queries(10):
        html = client.get(article.get_absolute_url()).content.decode()

    placeholder = re.search(rf'id="comment-{removed.pk}".*?</article>', html, re.S).group()
    assert f'<p class="comment-body">{expected}</p>' in placeholder
