import http.cookiejar
import re
import time
import urllib.parse
import urllib.request
from datetime import timedelta

import pytest
from django.core import signing
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

import comments.views
from articles.cache import article_page_version
from comments.forms import AUTHOR_COOKIE, EMAIL_COOKIE, PARENT_GONE, REMEMBER_SALT
from comments.locks import lock_article
from comments.models import BannedPhrase, BlockedCommenter, Comment, ModerationPolicy
from comments.moderation import BLOCKED_MESSAGE, REFUSED_MESSAGE
from comments.session import OWN_PENDING_KEY
from comments.trees.checks import tree_problems
from newsroom.locking import LockTimeout
from tests.factories import make_article, make_comment
from tests.helpers import held_elsewhere

pytestmark = pytest.mark.django_db

XSS_BODIES = [
    "<script>alert('x')</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">click me</a>',
    '"><svg onload=alert(1)>',
]


def post_url(article):
    return reverse("comments:post", args=[article.slug])


def reply_url(comment):
    return reverse("comments:reply", args=[comment.article.slug, comment.pk])


def data(**fields):
    values = {"name": "Ada Reader", "email": "ada@example.com", "body": "A fair point.",
              "parent": ""}
    values.update(fields)
    return values


def permalink(comment):
    return reverse("articles:comment_permalink", args=[comment.article.slug, comment.pk])


def messages_of(response):
    return [str(message) for message in response.wsgi_request._messages]


# Posting


def test_a_new_comment_is_stored_and_the_reader_redirected_to_it(
    client, django_capture_on_commit_callbacks
):
    article = make_article()
    version = article_page_version(article.pk)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            post_url(article), data(), HTTP_USER_AGENT="Mozilla/5.0 " + "x" * 600,
            REMOTE_ADDR="198.51.100.7",
        )

    comment = Comment.objects.get()
    assert response.status_code == 302
    assert response.url == permalink(comment)
    assert (comment.author_name, comment.author_email, comment.body) == (
        "Ada Reader", "ada@example.com", "A fair point.")
    assert comment.parent is None
    assert comment.status == Comment.Status.PUBLISHED
    assert comment.ip_address == "198.51.100.7"
    assert comment.user_agent.startswith("Mozilla/5.0") and len(comment.user_agent) == 500
    assert comment.created is not None
    assert comment.level == 0 and comment.lft == 1 and comment.rght == 2
    assert article_page_version(article.pk) == version + 1
    edit = reverse("comments:edit", args=[article.slug, comment.pk])
    assert messages_of(response) == [
        f'Thank you, your comment is published. <a href="{edit}">Edit it</a> (for 15 minutes).'
    ]


def test_new_top_level_comments_go_after_the_existing_threads(client):
    article = make_article()
    make_comment(article, thread_position=7)
    other = make_article()
    make_comment(other, thread_position=40)

    client.post(post_url(article), data(body="First"))
    client.post(post_url(article), data(body="Second"))

    positions = dict(Comment.objects.filter(article=article, body__in=["First", "Second"])
                     .values_list("body", "thread_position"))
    assert positions == {"First": 8, "Second": 9}
    assert len(set(Comment.objects.filter(parent=None).values_list("tree_id", flat=True))) == 4


def test_a_reply_is_attached_under_its_parent(client):
    article = make_article()
    root = make_comment(article)
    first = make_comment(article, parent=root)

    response = client.post(post_url(article), data(parent=root.pk, body="Replying"))

    reply = Comment.objects.get(body="Replying")
    assert response.url == permalink(reply)
    assert reply.parent == root and reply.level == 1 and reply.thread_position == 0
    assert list(root.get_children()) == [first, reply]
    assert tree_problems() == {}


def test_a_post_runs_in_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    article = make_article()
    root = make_comment(article)
    parent = make_comment(article, parent=root)
    ModerationPolicy.objects.create(mode=ModerationPolicy.Mode.FIRST_COMMENT)
    BannedPhrase.objects.create(phrase="nonsense")
    client.post(post_url(article), data(parent=parent.pk, body="Warm-up"))

    with django_assert_max_num_queries(20):
        response = client.post(post_url(article), data(parent=parent.pk, body="Counted"))

    assert response.status_code == 302
    assert Comment.objects.filter(body="Counted").exists()


@pytest.mark.parametrize(("max_depth", "level"), [(8, 8), (3, 3), (1, 1)])
def test_a_reply_below_the_maximum_depth_goes_to_the_deepest_allowed_level(
    client, settings, max_depth, level
):
    settings.COMMENTS_MAX_DEPTH = max_depth
    article = make_article()
    chain = [make_comment(article)]
    for _ in range(max_depth):
        chain.append(make_comment(article, parent=chain[-1]))
    assert chain[-1].level == max_depth

    client.post(post_url(article), data(parent=chain[-1].pk, body="Too deep"))

    reply = Comment.objects.get(body="Too deep")
    assert reply.level == level
    assert reply.parent == chain[max_depth - 1]
    assert tree_problems() == {}


def test_a_reply_at_the_maximum_depth_is_accepted_as_is(client, settings):
    settings.COMMENTS_MAX_DEPTH = 2
    article = make_article()
    root = make_comment(article)
    child = make_comment(article, parent=root)

    client.post(post_url(article), data(parent=child.pk, body="Just fits"))

    assert Comment.objects.get(body="Just fits").parent == child


# Validation


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": ""}, "name", "Enter your name."),
        ({"name": "x" * 81}, "name", "Use at most 80 characters."),
        ({"email": ""}, "email", "Enter your email address."),
        ({"email": "not-an-address"}, "email", "Enter a valid email address"),
        ({"body": ""}, "body", "Write something before posting."),
        ({"body": " \n\t  "}, "body", "Write something before posting."),
        ({"body": "x" * 5001}, "body", "5,000 characters or fewer (it has 5001)"),
        ({"parent": "999999"}, "parent", PARENT_GONE),
        ({"parent": "abc"}, "parent", PARENT_GONE),
    ],
)
def test_bad_input_shows_the_form_again_with_the_message_and_the_text_kept(
    client, fields, field, message
):
    article = make_article()
    sent = data(**fields)

    response = client.post(post_url(article), sent)

    assert response.status_code == 400
    assert Comment.objects.count() == 0
    form = response.context["form"]
    assert message in " ".join(form.errors[field])
    html = response.content.decode()
    assert article.title in html and article.get_absolute_url() in html
    for kept in ("name", "email", "body"):
        if kept != field and sent[kept]:
            assert form[kept].value() == sent[kept]
    assert 'name="body"' in html


def test_an_oversized_body_is_kept_in_the_form(client):
    article = make_article()
    body = "Long words. " * 500

    response = client.post(post_url(article), data(body=body))

    assert response.status_code == 400
    assert body.strip() in response.content.decode()


def test_a_parent_on_another_article_is_refused(client):
    article = make_article()
    elsewhere = make_comment(make_article())

    response = client.post(post_url(article), data(parent=elsewhere.pk))

    assert response.status_code == 400
    assert response.context["form"].errors["parent"] == [PARENT_GONE]
    html = response.content.decode()
    assert PARENT_GONE in html
    assert '<input type="hidden" name="parent" value="" id="id_parent">' in html
    assert Comment.objects.count() == 1


@pytest.mark.parametrize("status", [Comment.Status.PENDING, Comment.Status.REMOVED,
                                    Comment.Status.SPAM])
def test_a_hidden_parent_is_refused(client, status):
    article = make_article()
    hidden = make_comment(article, status=status)

    response = client.post(post_url(article), data(parent=hidden.pk))

    assert response.status_code == 400
    assert response.context["form"].errors["parent"] == [PARENT_GONE]
    assert Comment.objects.count() == 1


def test_the_error_page_of_a_reply_shows_the_comment_replied_to(client):
    article = make_article()
    parent = make_comment(article, body="The original <b>point</b>")

    response = client.post(post_url(article), data(parent=parent.pk, body=""))

    assert response.status_code == 400
    html = response.content.decode()
    assert "The original &lt;b&gt;point&lt;/b&gt;" in html
    assert f'name="parent" value="{parent.pk}"' in html


def test_a_parent_hidden_after_validation_is_reported_on_the_form(client, monkeypatch):
    article = make_article()
    parent = make_comment(article)

    def hide_then_check(self):
        Comment.objects.filter(pk=parent.pk).update(status=Comment.Status.REMOVED)
        return parent.pk

    monkeypatch.setattr("comments.forms.CommentForm.clean_parent", hide_then_check)
    response = client.post(post_url(article), data(parent=parent.pk, body="Too late"))

    assert response.status_code == 400
    assert response.context["form"].errors["parent"] == [PARENT_GONE]
    assert not Comment.objects.filter(body="Too late").exists()


def test_unknown_article_is_404(client):
    assert client.post("/articles/no-such-article/comments/", data()).status_code == 404


def test_an_unpublished_article_takes_no_comments(client):
    article = make_article(published_at=timezone.now() + timedelta(days=1))

    assert client.post(post_url(article), data()).status_code == 404
    assert Comment.objects.count() == 0


def test_get_on_the_post_url_is_405(client):
    assert client.get(post_url(make_article())).status_code == 405


# Safety


@pytest.mark.parametrize("body", XSS_BODIES)
def test_hostile_bodies_are_stored_verbatim_and_escaped_on_the_reply_page(client, body):
    article = make_article()

    client.post(post_url(article), data(body=body, name='<b onmouseover="x()">Eve</b>'))

    comment = Comment.objects.get()
    assert comment.body == body
    html = client.get(reply_url(comment)).content.decode()
    assert body not in html
    assert "<script>alert" not in html and "<svg" not in html and "<img" not in html
    assert '<a href="javascript:' not in html
    assert "&lt;" in html
    assert '<b onmouseover' not in html


def test_the_email_is_never_shown_on_the_reply_page(client):
    article = make_article()
    parent = make_comment(article, author_email="secret@example.com")

    assert "secret@example.com" not in client.get(reply_url(parent)).content.decode()


def test_csrf_is_enforced():
    article = make_article()
    client = Client(enforce_csrf_checks=True)

    response = client.post(post_url(article), data())

    assert response.status_code == 403
    assert Comment.objects.count() == 0


def test_a_post_with_the_csrf_token_from_the_reply_page_is_accepted():
    article = make_article()
    parent = make_comment(article)
    client = Client(enforce_csrf_checks=True)
    client.get(reply_url(parent))
    token = client.cookies["csrftoken"].value

    response = client.post(post_url(article), data(parent=parent.pk, csrfmiddlewaretoken=token))

    assert response.status_code == 302
    assert Comment.objects.filter(parent=parent).count() == 1


def test_a_filled_honeypot_looks_like_success_but_stores_nothing(client):
    article = make_article()

    response = client.post(post_url(article), data(website="http://spam.example"))

    assert response.status_code == 302
    assert response.url == f"{article.get_absolute_url()}#comments"
    assert Comment.objects.count() == 0


def test_the_honeypot_is_hidden_from_people(client):
    parent = make_comment(make_article())

    html = client.get(reply_url(parent)).content.decode()

    assert '<div class="comment-form-trap" hidden aria-hidden="true">' in html
    assert 'tabindex="-1"' in html and 'autocomplete="off"' in html


def test_closed_discussion_answers_403_with_a_message(client):
    article = make_article(comments_open=False)

    response = client.post(post_url(article), data())

    assert response.status_code == 403
    assert "Comments are closed" in response.content.decode()
    assert Comment.objects.count() == 0


def test_discussion_closes_after_the_configured_days(client, settings):
    settings.COMMENTS_CLOSE_AFTER_DAYS = 30
    old = make_article(published_at=timezone.now() - timedelta(days=31))
    recent = make_article(published_at=timezone.now() - timedelta(days=29))

    assert client.post(post_url(old), data()).status_code == 403
    assert client.post(post_url(recent), data()).status_code == 302
    assert Comment.objects.get().article == recent


def test_the_reply_page_of_a_closed_discussion_shows_no_form(client):
    article = make_article(comments_open=False)
    parent = make_comment(article)

    html = client.get(reply_url(parent)).content.decode()

    assert "Comments are closed on this article." in html
    assert "comment-form" not in html


# Moderation


def test_a_blocked_commenter_is_refused_politely_and_nothing_is_stored(client):
    article = make_article()
    BlockedCommenter.objects.create(kind=BlockedCommenter.Kind.EMAIL, value="ADA@example.com")

    response = client.post(post_url(article), data(body="Let me in"))

    assert response.status_code == 400
    assert BLOCKED_MESSAGE in " ".join(response.context["form"].non_field_errors())
    assert response.context["form"]["body"].value() == "Let me in"
    assert Comment.objects.count() == 0


def test_a_blocked_ip_address_is_refused(client):
    article = make_article()
    BlockedCommenter.objects.create(kind=BlockedCommenter.Kind.IP, value="203.0.113.9")

    response = client.post(post_url(article), data(), REMOTE_ADDR="203.0.113.9")

    assert response.status_code == 400
    assert Comment.objects.count() == 0


def test_a_refused_phrase_is_refused_and_nothing_is_stored(client):
    article = make_article()
    BannedPhrase.objects.create(phrase="scoundrel", action=BannedPhrase.Action.REFUSE)

    response = client.post(post_url(article), data(body="What a scoundrel."))

    assert response.status_code == 400
    assert REFUSED_MESSAGE in response.content.decode().replace("&#x27;", "'")
    assert Comment.objects.count() == 0


def test_a_held_comment_is_pending_and_remembered_in_the_authors_session(
    client, django_capture_on_commit_callbacks
):
    article = make_article()
    BannedPhrase.objects.create(phrase="rubbish", action=BannedPhrase.Action.HOLD)
    version = article_page_version(article.pk)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(post_url(article), data(body="Utter rubbish."))

    comment = Comment.objects.get()
    assert comment.status == Comment.Status.PENDING
    assert response.url == permalink(comment)
    assert client.session[OWN_PENDING_KEY] == [comment.pk]
    assert "awaiting moderation" in messages_of(response)[0]
    assert article_page_version(article.pk) == version
    client.post(post_url(article), data(body="More rubbish."))
    assert len(client.session[OWN_PENDING_KEY]) == 2
    assert OWN_PENDING_KEY not in Client().session


def test_a_premoderated_article_holds_every_comment(client):
    article = make_article(premoderated=True)

    client.post(post_url(article), data())

    assert Comment.objects.get().status == Comment.Status.PENDING


def test_a_repeated_body_by_the_same_author_is_flagged_as_duplicate(client):
    article = make_article()

    client.post(post_url(article), data(body="Same words."))
    client.post(post_url(article), data(body="same   WORDS."))
    client.post(post_url(article), data(body="Same words.", name="Someone Else"))
    client.post(post_url(make_article()), data(body="Same words."))

    flags = list(Comment.objects.order_by("pk").values_list("is_duplicate", flat=True))
    assert flags == [False, True, False, False]


# Remember me


def test_remember_sets_signed_cookies_and_prefills_the_next_form(client):
    article = make_article()
    parent = make_comment(article)

    response = client.post(post_url(article), data(remember="on"))

    cookie = response.cookies[AUTHOR_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["max-age"] > 3e7
    # Signed, and in ASCII whatever the name (django.core.signing).
    assert cookie.value.isascii() and "Ada Reader" not in cookie.value
    assert signing.loads(cookie.value, salt=REMEMBER_SALT) == "Ada Reader"
    form = client.get(reply_url(parent)).content.decode()
    assert '<input type="text" name="name" value="Ada Reader" autocomplete="name"' in form
    assert '<input type="email" name="email" value="ada@example.com" autocomplete="email"' in form
    assert '<input type="checkbox" name="remember" id="id_remember" checked>' in form


def _fresh_form(client, parent) -> str:
    """The reply page's form, asserted to hold no remembered name, email or tick."""
    form = client.get(reply_url(parent)).content.decode()
    assert '<input type="text" name="name" autocomplete="name"' in form
    assert '<input type="email" name="email" autocomplete="email"' in form
    assert '<input type="checkbox" name="remember" id="id_remember">' in form
    return form


def test_unticked_remember_deletes_the_cookies(client):
    article = make_article()
    parent = make_comment(article)
    client.post(post_url(article), data(remember="on"))

    response = client.post(post_url(article), data(body="Another"))

    assert response.cookies[AUTHOR_COOKIE].value == ""
    assert response.cookies[EMAIL_COOKIE]["max-age"] == 0
    assert "Ada Reader" not in _fresh_form(client, parent)


def test_a_forged_remember_cookie_is_ignored(client):
    parent = make_comment(make_article())
    client.cookies[AUTHOR_COOKIE] = "Mallory"

    assert "Mallory" not in _fresh_form(client, parent)


# The reply page


def test_the_reply_page_shows_the_comment_and_a_reply_form(client):
    article = make_article()
    parent = make_comment(article, author_name="Grace", body="First line\nsecond line")

    response = client.get(reply_url(parent))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Reply to Grace" in html
    assert "First line<br>second line" in html
    assert f'action="{post_url(article)}"' in html
    assert f'name="parent" value="{parent.pk}"' in html
    assert '<label for="id_body">Comment:</label>' in html
    assert "Post reply" in html
    # It works without JavaScript: the only script is the site's file, deferred.
    assert "style=" not in html and " onclick" not in html
    assert re.findall(r"<script[^>]*>", html) == [
        '<script src="/static/js/comments.js" defer>'
    ]


@pytest.mark.parametrize("status", [Comment.Status.PENDING, Comment.Status.REMOVED])
def test_the_reply_page_of_a_hidden_comment_is_404(client, status):
    comment = make_comment(make_article(), status=status)

    assert client.get(reply_url(comment)).status_code == 404


def test_the_reply_page_needs_the_comments_own_article(client):
    comment = make_comment(make_article())
    other = make_article()

    url = reverse("comments:reply", args=[other.slug, comment.pk])
    assert client.get(url).status_code == 404


def test_a_control_character_is_refused_with_a_message_and_nothing_is_stored(client):
    article = make_article()

    response = client.post(post_url(article), data(name="Ada\x1b[31m", body="beep\x07"))

    assert response.status_code == 400
    html = response.content.decode()
    assert "Remove the invisible control character (U+001B)" in html
    assert "Remove the invisible control character (U+0007)" in html
    assert not Comment.objects.exists()


# A busy discussion: the article's lock is not granted in time


def test_a_lock_timeout_answers_503_keeps_what_was_typed_and_stores_nothing(
    client, monkeypatch, settings
):
    settings.COMMENTS_LOCK_TIMEOUT_SECONDS = 2.5
    article = make_article()
    parent = make_comment(article, author_name="Grace")

    def busy(**kwargs):
        raise LockTimeout("canceling statement due to lock timeout")

    monkeypatch.setattr(comments.views.services, "comment_post", busy)
    response = client.post(
        post_url(article), data(parent=parent.pk, body="Typed with care.\nTwo lines.")
    )

    html = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"] == "3"
    assert "The discussion is busy, please try again in a few seconds" in html
    assert "Typed with care.\nTwo lines.</textarea>" in html
    assert 'value="Ada Reader"' in html and 'value="ada@example.com"' in html
    assert f'name="parent" value="{parent.pk}"' in html
    assert "In reply to Grace" in html
    assert Comment.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_post_waiting_past_the_lock_timeout_gets_a_503_within_it(settings):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://... to run it")
    settings.COMMENTS_LOCK_TIMEOUT_SECONDS = 0.5
    settings.COMMENT_RATE_LIMIT = "off"
    article = make_article()
    with held_elsewhere(lambda: lock_article(article.pk)):
        started = time.monotonic()
        response = Client().post(post_url(article), data(body="Typed with care."))
        elapsed = time.monotonic() - started

    html = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert "The discussion is busy, please try again in a few seconds" in html
    assert "Typed with care.</textarea>" in html
    # Half a second of waiting, then the answer; without a timeout it waited for the holder.
    assert elapsed < 5
    assert Comment.objects.count() == 0


# Remembered names and emails in any script

UNICODE_AUTHORS = [
    ("Անի Հակոբյան", "ani@example.am"),
    ("Анна Петрова", "anna@example.ru"),
    ("王小明", "xiaoming@example.cn"),
    ("Ada 🌷🚀", "ada@example.com"),
    ("Ada Reader", "ada@пример.рф"),
]


@pytest.mark.parametrize(("name", "email"), UNICODE_AUTHORS)
def test_a_remembered_name_or_email_in_any_script_round_trips(client, name, email):
    article = make_article()

    response = client.post(post_url(article), data(name=name, email=email, remember="on"))

    assert response.status_code == 302
    for cookie in (AUTHOR_COOKIE, EMAIL_COOKIE):
        assert response.cookies[cookie].OutputString().isascii()
    page = client.get(response["Location"], follow=True).content.decode()
    assert "Thank you, your comment is published." in page
    assert f'value="{name}"' in page and f'value="{email}"' in page
    assert Comment.objects.filter(author_name=name, author_email=email).count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("name", "email"), UNICODE_AUTHORS)
def test_a_real_wsgi_server_accepts_the_remembered_name_and_confirms_once(
    live_server, name, email
):
    article = make_article()
    browser = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    url = f"{live_server.url}{article.get_absolute_url()}"
    with browser.open(url) as response:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.read().decode())
    form = urllib.parse.urlencode(
        data(name=name, email=email, remember="on", csrfmiddlewaretoken=token[1])
    ).encode()

    # The post answers with a redirect carrying the cookies, which the opener follows.
    with browser.open(f"{live_server.url}{post_url(article)}", data=form) as response:
        assert response.status == 200
        page = response.read().decode()

    assert "Thank you, your comment is published." in page
    assert f'value="{name}"' in page
    assert Comment.objects.filter(author_name=name, author_email=email).count() == 1
