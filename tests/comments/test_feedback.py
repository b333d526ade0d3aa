"""The confirmation of a reader's action shows where the reader acted, and only to that reader.

The discussion is a fragment shared by everyone (articles/page_cache.py), so a confirmation at
a comment is listed with the comment's id for static/js/comments.js to move there, and a held
comment's confirmation is written into the form, which is rendered for each reader.
"""

import re

import pytest
from django.test import Client
from django.urls import reverse

from comments.feedback import FORM_FEEDBACK, posted_tag, reported_tag
from comments.models import Comment
from tests.factories import make_article, make_comment

pytestmark = pytest.mark.django_db

DATA = {"name": "Ada Reader", "email": "ada@example.com", "body": "A fair point.", "parent": ""}
FEEDBACK = re.compile(r'data-feedback="[^"]*"|comment-form-feedback')


def _post(client, article, **fields):
    return client.post(reverse("comments:post", args=[article.slug]), {**DATA, **fields},
                       follow=True)


def _form(html):
    start = html.index('<form class="comment-form')
    return html[start : html.index("</form>", start)]


def test_a_published_comment_is_confirmed_at_the_comment(client):
    article = make_article()
    html = _post(client, article).content.decode()
    comment = Comment.objects.get()
    assert posted_tag(comment.pk) == f"posted:{comment.pk}"
    assert (
        f'<li class="message message--success" data-feedback="posted:{comment.pk}">'
        "Thank you, your comment is published. "
        f'<a href="/articles/{article.slug}/comments/{comment.pk}/edit/">Edit it</a> '
        "(for 15 minutes).</li>"
    ) in html
    assert f'id="comment-{comment.pk}"' in html
    assert "comment-form-feedback" not in html


def test_a_held_comment_is_confirmed_at_the_form_and_announced(client):
    article = make_article(premoderated=True)
    html = _post(client, article).content.decode()
    assert Comment.objects.get().status == Comment.Status.PENDING
    form = _form(html)
    assert (
        '<p class="comment-form-feedback message message--info" role="status" tabindex="-1">'
        "Thank you. Your comment is awaiting moderation"
    ) in form
    # Once, at the form: not at the top of the page as well.
    assert html.count("Your comment is awaiting moderation") == 1
    assert FORM_FEEDBACK not in re.findall(r'data-feedback="([^"]*)"', html)


def test_a_report_is_confirmed_at_the_comment_reported(client):
    article = make_article()
    comment = make_comment(article)
    url = reverse("comments:report", args=[article.slug, comment.pk])
    html = client.post(url, {"reason": "spam"}, follow=True).content.decode()
    assert f'data-feedback="{reported_tag(comment.pk)}">Thank you for your report.' in html
    again = client.post(url, {"reason": "spam"}, follow=True).content.decode()
    assert f'data-feedback="reported:{comment.pk}">You have already reported' in again


def test_the_feedback_is_shown_once_to_its_reader_and_never_to_anyone_else(client):
    article = make_article()
    make_comment(article)
    other = Client()
    other.get(article.get_absolute_url())  # the shared copy exists before the post
    first = _post(client, article).content.decode()
    assert FEEDBACK.search(first)
    assert not FEEDBACK.search(client.get(article.get_absolute_url()).content.decode())
    for _ in range(2):  # the shared copy, stored and then served
        assert not FEEDBACK.search(other.get(article.get_absolute_url()).content.decode())

    held = make_article(premoderated=True)
    assert FEEDBACK.search(_post(client, held, body="Another point.").content.decode())
    assert not FEEDBACK.search(other.get(held.get_absolute_url()).content.decode())
    assert not FEEDBACK.search(client.get(held.get_absolute_url()).content.decode())


def test_a_form_with_errors_puts_the_focus_on_its_first_field_in_error(client):
    article = make_article()
    html = _post(client, article, name="", email="nope").content.decode()
    assert re.findall(r"<(?:input|textarea)[^>]* autofocus>", html) == [
        re.search(r'<input type="text" name="name"[^>]*>', html).group()
    ]
    html = _post(client, article, body="").content.decode()
    assert re.search(r'<textarea name="body"[^>]* autofocus>', html)
    assert html.count(" autofocus") == 1
    fresh = client.get(article.get_absolute_url()).content.decode()
    assert " autofocus" not in fresh
