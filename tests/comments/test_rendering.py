"""The markup of the discussion, and of one comment's body and date wherever it shows."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.urls import reverse

from comments.rendering import FOLD_CHARACTERS, FOLD_LINES, created_html, own_pending_html
from comments.selectors import own_pending_comments
from tests.factories import make_article, make_comment

pytestmark = pytest.mark.django_db

CREATED = datetime(2026, 3, 4, 5, 6, 7, 891234, tzinfo=UTC)
BODY_RE = re.compile(r'<div class="comment-body">.*?</div>', re.DOTALL)
TIME_RE = re.compile(r"<time [^>]*>[^<]*</time>")


def test_dates_have_one_format_and_a_datetime_html_accepts(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    assert created_html(CREATED) == (
        '<time datetime="2026-03-04T06:06:07+01:00" title="Wednesday 4 March 2026, 06:06 CET">'
        "4 Mar 2026, 06:06</time>"
    )
    assert created_html(None) == ""


def test_own_pending_comments_are_escaped_and_say_what_they_answer():
    article = make_article()
    parent = make_comment(article)
    reply = make_comment(
        article,
        parent=parent,
        status="pending",
        author_name='Ann "<b>"',
        body="One <i>line</i> & more\n\nA second paragraph",
    )
    thread = make_comment(article, status="pending")
    html = own_pending_html(own_pending_comments(article=article, ids={reply.pk, thread.pk}))

    assert html.startswith('<section class="own-pending" aria-labelledby="own-pending-heading">')
    assert (
        f'<li class="comment-item"><article class="comment comment--pending" '
        f'id="comment-{reply.pk}" data-comment-id="{reply.pk}" '
        'aria-label="Comment by Ann &quot;&lt;b&gt;&quot;"><header class="comment-header">'
        '<span class="comment-author">Ann &quot;&lt;b&gt;&quot;</span> '
        f'<span class="comment-in-reply-to">in reply to <a href="#comment-{parent.pk}">a comment'
        '</a></span> <strong class="comment-status">awaiting moderation</strong></header>'
        '<div class="comment-body"><p>One &lt;i&gt;line&lt;/i&gt; &amp; more</p>\n\n'
        "<p>A second paragraph</p></div></article></li>"
    ) in html
    top = html[html.index(f'id="comment-{thread.pk}"') :]
    assert "in reply to" not in top[: top.index("</article>")]
    assert own_pending_html([]) == ""


def test_reply_links_name_the_author_for_the_inline_form(client):
    article = make_article()
    comment = make_comment(article, author_name='Ann "the <b>" O\'Neil')
    html = client.get(article.get_absolute_url()).content.decode()
    reply = reverse("comments:reply", args=[article.slug, comment.pk])
    assert (
        f'<a class="reply-link" data-comment-id="{comment.pk}" href="{reply}" '
        'data-author="Ann &quot;the &lt;b&gt;&quot; O&#x27;Neil">Reply<span '
        'class="visually-hidden"> to Ann &quot;the &lt;b&gt;&quot; O&#x27;Neil</span></a>'
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
def _comment(html, pk):
    start = html.index(f'<article class="comment" id="comment-{pk}"')
    return html[start : html.index("</article>", start) + len("</article>")]


def test_each_comment_is_named_by_its_author_and_so_is_each_action(client):
    article = make_article()
    comment = make_comment(article, author_name="Ararat <3")
    removed = make_comment(article, status="removed")
    make_comment(article, parent=removed)
    html = client.get(article.get_absolute_url()).content.decode()

    shown = _comment(html, comment.pk)
    assert 'aria-label="Comment by Ararat &lt;3"' in shown
    assert ">Reply<span class=\"visually-hidden\"> to Ararat &lt;3</span></a>" in shown
    assert ">Share<span class=\"visually-hidden\"> Ararat &lt;3’s comment</span></a>" in shown
    assert ">Report<span class=\"visually-hidden\"> Ararat &lt;3’s comment</span></a>" in shown
    assert f'id="comment-{removed.pk}" data-comment-id="{removed.pk}" ' in html
    assert 'aria-label="Removed comment"><p class="comment-body">[removed]</p>' in html


def test_share_is_the_stable_link_of_the_comment_not_a_fragment_of_this_page(client):
    article = make_article()
    comment = make_comment(article)
    shown = _comment(client.get(article.get_absolute_url()).content.decode(), comment.pk)
    stable = reverse("articles:comment_permalink", args=[article.slug, comment.pk])
    assert stable == f"/articles/{article.slug}/comments/{comment.pk}/"
    assert f'<a class="share-link" href="{stable}"' in shown
    assert 'href="#comment-' not in shown


@pytest.mark.parametrize(
    ("body", "folds"),
    [
        ("short", False),
        ("x" * FOLD_CHARACTERS, False),
        ("x" * (FOLD_CHARACTERS + 1), True),
        ("line\n" * (FOLD_LINES - 1) + "last", False),
        ("line\n" * FOLD_LINES + "last", True),
    ],
)
def test_a_long_comment_folds_behind_read_more_without_javascript(client, body, folds):
    article = make_article()
    comment = make_comment(article, author_name="Ani", body=body)
    shown = _comment(client.get(article.get_absolute_url()).content.decode(), comment.pk)
    assert ('<div class="comment-body comment-body--long">' in shown) is folds
    # A <details> after the body: the stylesheet cuts the body while it is closed.
    more = (
        '</div><details class="comment-more"><summary>'
        '<span class="comment-more-show">Read more</span>'
        '<span class="comment-more-hide">Show less</span>'
        '<span class="visually-hidden"> of Ani’s comment</span></summary></details>'
        '<div class="comment-actions">'
    )
    assert (more in shown) is folds


def test_a_staff_badge_follows_the_author_and_is_escaped():
    from comments.layout import CommentItem
    from comments.rendering import _badges_markup

    item = CommentItem(1, None, 0, "Ani", "x", CREATED, badge="<Editor>")
    assert _badges_markup(item) == '<span class="comment-badge">&lt;Editor&gt;</span>'
    item.badge = ""
    assert _badges_markup(item) == ""


def test_the_thread_lines_and_field_borders_reach_3_to_1_in_light_and_dark():
    css = (Path(__file__).resolve().parents[2] / "static" / "css" / "site.css").read_text()
    lines = re.findall(r"--thread-line: (#[0-9a-f]{6});", css)
    backgrounds = re.findall(r"--background: (#[0-9a-f]{6});", css)
    surfaces = re.findall(r"--surface: (#[0-9a-f]{6});", css)
    assert len(lines) == len(backgrounds) == len(surfaces) == 2  # light, then dark
    for line, background, surface in zip(lines, backgrounds, surfaces, strict=True):
        assert contrast(line, background) >= 3, (line, background)
        assert contrast(line, surface) >= 3, (line, surface)


def contrast(first: str, second: str) -> float:
    """WCAG 2's contrast ratio of two #rrggbb colours."""

    def luminance(colour):
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_a_comment_deleted_by_its_author_is_a_placeholder_saying_so():
    from comments.layout import CommentItem
    from comments.rendering import _comment_html, comment_links

    article = make_article()
    item = CommentItem(7, None, 0, "", "", None, removed=True, deleted=True)
    markup = _comment_html(item, comment_links(article))
    assert 'aria-label="Deleted comment"' in markup
    assert "[deleted by its author]" in markup


def test_an_edited_comment_says_when_after_its_date():
    from comments.layout import CommentItem
    from comments.rendering import _comment_html, comment_links

    article = make_article()
    edited = CREATED + timedelta(minutes=5)
    item = CommentItem(7, None, 0, "Ani", "x", CREATED, edited=edited)
    links = comment_links(article)
    links["profile_url"] = "/readers/handle-placeholder/"
    markup = _comment_html(item, links)
    assert '<span class="comment-edited">edited <time datetime="' in markup
    assert markup.index("comment-edited") > markup.index("<time")
