"""The article page cache: shared by anonymous readers, invalidated by every change."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.test import Client
from django.urls import reverse

from articles.cache import version_mirror
from articles.page_cache import CSRF_PLACEHOLDER, local_pages
from comments.forms import AUTHOR_COOKIE, EMAIL_COOKIE, remember_cookie_value
from comments.models import Comment
from comments.services import comments_remove
from tests.factories import make_article, make_comment
from tests.helpers import use_redis

pytestmark = pytest.mark.django_db


@pytest.fixture
def article():
    article = make_article(title="Summit cancelled")
    for n in range(20):
        make_comment(article, body=f"Opinion number {n}.")
    return article


def get(client, article, **params):
    return client.get(article.get_absolute_url(), params)


def csrf_token(response) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode())[1]


def test_a_second_anonymous_reader_gets_the_page_from_the_cache(
    article, django_assert_max_num_queries
):
    first = get(Client(), article)
    assert first.status_code == 200
    with django_assert_max_num_queries(0):
        second = get(Client(), article)
    assert second.status_code == 200
    assert "Opinion number 19." in second.content.decode()
    # Counted in the body: the head's schema.org record holds each comment's text too.
    assert second.content.decode().partition("</head>")[2].count("Opinion number") == 20


def test_each_reader_gets_a_csrf_token_of_their_own_and_can_post(article, settings):
    settings.COMMENT_RATE_LIMIT = "off"
    get(Client(), article)
    readers = [Client(enforce_csrf_checks=True) for _ in range(2)]
    tokens = []
    for reader in readers:
        response = get(reader, article)
        tokens.append(csrf_token(response))
        assert CSRF_PLACEHOLDER.decode() not in response.content.decode()
        assert response.cookies["csrftoken"].value
    assert tokens[0] != tokens[1]
    for n, (reader, token) in enumerate(zip(readers, tokens, strict=True)):
        response = reader.post(
            reverse("comments:post", args=[article.slug]),
            {"name": "Ann", "email": "ann@example.com", "body": f"Posted {n}.", "parent": "",
             "csrfmiddlewaretoken": token},
        )
        assert response.status_code == 302, response.content.decode()[:300]


def test_a_posted_comment_shows_at_once_to_other_readers(
    article, settings, django_capture_on_commit_callbacks
):
    settings.COMMENT_RATE_LIMIT = "off"
    get(Client(), article)
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(
            reverse("comments:post", args=[article.slug]),
            {"name": "Ann", "email": "ann@example.com", "body": "Seen by all.", "parent": ""},
        )
    assert "Seen by all." in get(Client(), article).content.decode()


def test_a_removed_comment_leaves_the_cached_page_at_once(
    article, django_capture_on_commit_callbacks
):
    doomed = Comment.objects.get(article=article, body="Opinion number 7.")
    assert "Opinion number 7." in get(Client(), article).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        comments_remove(comments=Comment.objects.filter(pk=doomed.pk), moderator=None)
    assert "Opinion number 7." not in get(Client(), article).content.decode()


def test_the_page_is_cached_apart_for_each_thread_page_and_order(article):
    oldest = get(Client(), article).content.decode()
    newest = get(Client(), article, sort="newest").content.decode()
    assert oldest.index("Opinion number 0.") < oldest.index("Opinion number 19.")
    assert newest.index("Opinion number 19.") < newest.index("Opinion number 0.")


def test_with_newest_first_the_default_the_plain_address_is_kept_as_newest_first(
    article, settings, django_assert_max_num_queries
):
    settings.COMMENTS_DEFAULT_SORT = "newest"
    plain = get(Client(), article).content.decode()
    assert plain.index("Opinion number 19.") < plain.index("Opinion number 0.")
    # The same copy as the explicit address's: no query at all.
    with django_assert_max_num_queries(0):
        named = get(Client(), article, sort="newest").content.decode()
    assert named.index("Opinion number 19.") < named.index("Opinion number 0.")
    oldest = get(Client(), article, sort="oldest").content.decode()
    assert oldest.index("Opinion number 0.") < oldest.index("Opinion number 19.")


def test_made_up_query_strings_are_served_fresh_and_not_stored(
    article, django_assert_num_queries
):
    get(Client(), article, utm="a")
    # The thread count, the comments and the editors' picks: the discussion built anew each
    # time (the article itself is the same for any query string and comes from its cached copy).
    with django_assert_num_queries(3):
        get(Client(), article, utm="b")


def test_a_signed_in_user_never_gets_the_cached_page(article, client, monkeypatch):
    get(Client(), article)
    user = get_user_model().objects.create_user("editor", password="x" * 20)
    client.force_login(user)
    read = []
    original = local_pages.get
    monkeypatch.setattr(local_pages, "get", lambda key: read.append(key) or original(key))
    assert get(client, article).status_code == 200
    # The page is rendered for them, around the cached article and discussion only.
    assert read and not any(key.startswith("article-page:") for key in read)


def remembered(name: str, email: str) -> Client:
    """A reader whose browser keeps the signed name and email cookies the posting view sets."""
    reader = Client()
    reader.cookies[AUTHOR_COOKIE] = remember_cookie_value(name)
    reader.cookies[EMAIL_COOKIE] = remember_cookie_value(email)
    return reader


def without_csrf_tokens(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


@pytest.mark.parametrize("name", ["Ann Smith", '"><script>alert(1)</script> & Co\'', "Անի 🌷"])
def test_a_remembered_reader_gets_the_cached_discussion_and_a_form_of_their_own(
    article, settings, name, django_assert_num_queries
):
    get(Client(), article)
    reader = remembered(name, "ann@example.org")
    # No query: the article and the discussion come from the cache, the form is theirs.
    with django_assert_num_queries(0):
        cached = get(reader, article)
    settings.ARTICLE_PAGE_CACHE_SECONDS = 0
    built = get(reader, article)

    assert without_csrf_tokens(cached) == without_csrf_tokens(built)
    html = cached.content.decode()
    assert 'value="ann@example.org"' in html
    assert 'id="id_remember" checked>' in html
    assert "<script>alert" not in html
    assert html.partition("</head>")[2].count("Opinion number") == 20


def test_a_remembered_name_never_reaches_the_shared_copy(article, django_assert_max_num_queries):
    reader = remembered("Ann Smith", "ann@example.org")
    assert "Ann Smith" in get(reader, article).content.decode()
    first = get(Client(), article)
    with django_assert_max_num_queries(0):
        second = get(Client(), article)

    for response in (first, second):
        html = response.content.decode()
        assert "Ann Smith" not in html and "ann@example.org" not in html
        assert 'id="id_remember">' in html
    assert "Ann Smith" in get(reader, article).content.decode()


def test_a_forged_remembered_name_is_ignored(article):
    get(Client(), article)
    reader = Client()
    reader.cookies[AUTHOR_COOKIE] = "Mallory:forged-signature"

    html = get(reader, article).content.decode()
    assert "Mallory" not in html
    assert 'id="id_remember">' in html


def test_a_reader_with_a_comment_awaiting_moderation_sees_it_and_others_do_not(
    article, settings, django_capture_on_commit_callbacks
):
    settings.COMMENT_RATE_LIMIT = "off"
    article.premoderated = True
    article.save()
    get(Client(), article)
    author = Client()
    with django_capture_on_commit_callbacks(execute=True):
        author.post(
            reverse("comments:post", args=[article.slug]),
            {"name": "Ann", "email": "ann@example.com", "body": "Held for review.", "parent": ""},
        )
    assert "Held for review." in get(author, article).content.decode()
    assert "Held for review." not in get(Client(), article).content.decode()


def test_a_reader_with_a_message_to_see_gets_it(article, settings):
    settings.COMMENT_RATE_LIMIT = "off"
    get(Client(), article)
    reader = Client()
    response = reader.post(
        reverse("comments:post", args=[article.slug]),
        {"name": "Ann", "email": "ann@example.com", "body": "Thanks for it.", "parent": ""},
        follow=True,
    )
    assert "your comment is published" in response.content.decode()


def test_the_page_cache_can_be_switched_off(article, settings, django_assert_num_queries):
    settings.ARTICLE_PAGE_CACHE_SECONDS = 0
    get(Client(), article)
    # The article, the thread count, the comments and the editors' picks.
    with django_assert_num_queries(4):
        get(Client(), article)


def test_an_edited_article_shows_at_once(article, django_capture_on_commit_callbacks):
    assert "Summit cancelled" in get(Client(), article).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        article.title = "Summit postponed"
        article.save()
    page = get(Client(), article).content.decode()
    assert "Summit postponed" in page and "Summit cancelled" not in page


def test_a_deleted_or_renamed_article_is_not_served_from_the_cache(
    article, django_capture_on_commit_callbacks
):
    url = article.get_absolute_url()
    assert get(Client(), article).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        article.slug = "summit-moved"
        article.save()
    assert Client().get(url).status_code == 404
    assert Client().get("/articles/summit-moved/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        article.delete()
    assert Client().get("/articles/summit-moved/").status_code == 404


def test_another_worker_serves_the_shared_copy_without_building_it(
    article, django_assert_num_queries
):
    get(Client(), article)
    # A second gunicorn worker: nothing in its memory, the page in the shared cache.
    local_pages.clear()
    with django_assert_num_queries(1):
        response = get(Client(), article)
    assert "Opinion number 19." in response.content.decode()


def test_after_the_shared_cache_empties_no_copy_from_memory_is_served(article, settings):
    # Every request reads the versions from the shared cache.
    settings.PAGE_VERSION_MIRROR = 0
    get(Client(), article)
    get(Client(), article)
    # Written without its commit hook: only the emptied cache can make the page change.
    make_comment(article, body="Written while the cache was down.")
    caches["pages"].clear()
    assert "Written while the cache was down." in get(Client(), article).content.decode()


def test_after_the_shared_cache_restarts_empty_no_copy_from_memory_is_served(
    article, settings, redis_server
):
    # The versions mirrored in this process (articles/version_mirror.py).
    use_redis(settings, redis_server.url)
    get(Client(), article)
    get(Client(), article)
    assert version_mirror().values, "the versions were not mirrored"
    make_comment(article, body="Written while the cache was down.")
    redis_server.stop(save=False)
    redis_server.start()
    assert "Written while the cache was down." in get(Client(), article).content.decode()


def test_a_slug_given_to_another_article_shows_that_article(
    article, django_capture_on_commit_callbacks
):
    old_url = article.get_absolute_url()
    assert "Summit cancelled" in Client().get(old_url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        article.slug = "summit-cancelled-2014"
        article.save()
        make_article(title="A different story", slug=old_url.strip("/").split("/")[-1])
    for _ in range(2):
        page = Client().get(old_url).content.decode()
        assert "A different story" in page and "Summit cancelled" not in page
    moved = Client().get("/articles/summit-cancelled-2014/").content.decode()
    assert "Summit cancelled" in moved


def test_a_signed_in_reader_gets_the_cached_discussion_around_a_page_of_their_own(
    article, client, django_assert_num_queries
):
    get(Client(), article)
    user = get_user_model().objects.create_user("editor", password="x" * 20)
    client.force_login(user)
    # The session, and the user with the name the form comments under (the account's
    # commenter): the article and the discussion come from the cache.
    with django_assert_num_queries(2):
        html = get(client, article).content.decode()
    assert html.partition("</head>")[2].count("Opinion number") == 20
    assert "Commenting as <strong>editor</strong>" in html


def test_a_pending_comment_shows_above_the_shared_discussion_for_its_author_only(
    article, settings, django_capture_on_commit_callbacks, django_assert_num_queries
):
    settings.COMMENT_RATE_LIMIT = "off"
    article.premoderated = True
    article.save()
    get(Client(), article)
    author = Client()
    with django_capture_on_commit_callbacks(execute=True):
        author.post(
            reverse("comments:post", args=[article.slug]),
            {"name": "Ann", "email": "ann@example.com", "body": "Held for review.", "parent": ""},
        )
    get(author, article)
    # The session and the reader's pending comments; the article and discussion are shared.
    with django_assert_num_queries(2):
        html = get(author, article).content.decode()
    body = html.partition("</head>")[2]
    block = body[body.index("Your comments awaiting moderation") : body.index("Opinion number 0.")]
    assert "Held for review." in block and 'class="comment comment--pending"' in block
    assert body.count("Held for review.") == 1
    assert "Held for review." not in html.partition("</head>")[0]
    assert "Your comments awaiting moderation" not in get(Client(), article).content.decode()


@pytest.mark.parametrize(
    "text",
    ["__newsroom_csrf_token__", CSRF_PLACEHOLDER.decode(), 'csrfmiddlewaretoken" value="x">'],
)
def test_a_comment_cannot_have_a_readers_csrf_token_written_into_it(article, text):
    make_comment(article, body=f"See https://evil.example/?t={text} now.")
    get(Client(), article)
    reader = Client()
    get(reader, article)
    response = get(reader, article)
    token = csrf_token(response)
    html = response.content.decode()
    assert html.count(token) == 1
    assert html.count('name="csrfmiddlewaretoken"') == 1
    assert CSRF_PLACEHOLDER.decode() not in html


@pytest.mark.parametrize(
    "query",
    [{"page": "2"}, {"page": "999999"}, {"page": "0"}, {"page": "x"}, {"sort": "bogus"},
     {"sort": "newest", "page": "7"}],
)
def test_a_page_that_does_not_exist_is_redirected_and_not_stored(
    article, query, django_assert_max_num_queries
):
    get(Client(), article)
    get(Client(), article, sort="newest")
    stored = set(local_pages.copies)
    # Past the end: known from the cached page count, nothing is built.
    past_the_end = int(query["page"]) > 1 if query.get("page", "").isdigit() else False
    with django_assert_max_num_queries(0 if past_the_end else 3):
        response = get(Client(), article, **query)
    assert response.status_code == 302
    assert response["Location"] in (
        article.get_absolute_url(), f"{article.get_absolute_url()}?sort=newest"
    )
    assert set(local_pages.copies) == stored


def test_a_flood_of_page_requests_leaves_the_posting_limit_standing(
    article, settings, monkeypatch
):
    settings.COMMENT_RATE_LIMIT = "2/60"
    # One window throughout, however long the flood takes.
    monkeypatch.setattr("newsroom.ratelimit.time.time", lambda: 6000.0)
    url = reverse("comments:post", args=[article.slug])

    def post(n):
        return Client().post(
            url, {"name": "Ann", "email": "ann@example.com", "body": f"Post {n}.", "parent": ""}
        ).status_code

    assert [post(1), post(2)] == [302, 302]
    flood = Client()
    for n in range(1_000):
        get(flood, article, page=n + 1)
    assert post(3) == 429


def test_the_frame_shared_by_readers_holds_nothing_of_the_reader_it_was_built_for(
    article, settings, django_assert_num_queries
):
    user = get_user_model().objects.create_user("Zebulon", password="x" * 20)
    signed_in = Client()
    signed_in.force_login(user)
    # The frame is built for the signed-in reader, then serves a remembered one.
    assert "Commenting as <strong>Zebulon</strong>" in get(signed_in, article).content.decode()
    copies = local_pages.copies.items()
    frames = [copy for key, (_, copy) in copies if key.startswith("article-frame:")]
    assert len(frames) == 1
    shared = b"".join(segment.raw for segment in frames[0].segments)
    assert b"Zebulon" not in shared and b"csrfmiddlewaretoken" not in shared
    # The threads are joined in apart (the head's schema.org record names the comments).
    assert b"Opinion number 19." not in shared.partition(b"</head>")[2]

    reader = remembered("Ann Smith", "ann@example.org")
    with django_assert_num_queries(0):
        cached = get(reader, article)
    settings.ARTICLE_PAGE_CACHE_SECONDS = 0
    built = get(reader, article)
    assert without_csrf_tokens(cached) == without_csrf_tokens(built)
    assert "Zebulon" not in cached.content.decode()


def test_a_message_is_shown_once_around_the_frame(article, settings):
    settings.COMMENT_RATE_LIMIT = "off"
    reader = remembered("Ann Smith", "ann@example.org")
    get(reader, article)
    response = reader.post(
        reverse("comments:post", args=[article.slug]),
        {"name": "Ann", "email": "ann@example.com", "body": "Thanks.", "parent": "",
         "remember": "on"},
    )
    first = get(reader, article).content.decode()
    assert response.status_code == 302 and "your comment is published" in first
    assert "your comment is published" not in get(reader, article).content.decode()


def test_a_reader_posts_with_the_token_of_the_page_rendered_around_the_frame(article, settings):
    settings.COMMENT_RATE_LIMIT = "off"
    get(Client(), article)
    reader = remembered("Ann Smith", "ann@example.org")
    reader.handler.enforce_csrf_checks = True
    get(reader, article)
    token = csrf_token(get(reader, article))
    response = reader.post(
        reverse("comments:post", args=[article.slug]),
        {"name": "Ann", "email": "ann@example.com", "body": "Framed.", "parent": "",
         "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    refused = reader.post(
        reverse("comments:post", args=[article.slug]),
        {"name": "Ann", "email": "ann@example.com", "body": "Forged.", "parent": "",
         "csrfmiddlewaretoken": token[:-1] + ("A" if token[-1] != "A" else "B")},
    )
    assert refused.status_code == 403
