"""Editors' picks on the site: the block above the discussion, the badge, the "picks" order,
the JSON API and the feed."""

from xml.etree import ElementTree

import pytest
from django.test import Client
from django.urls import reverse

from comments.models import Comment
from comments.services import comments_feature
from tests.factories import make_article, make_comment

pytestmark = pytest.mark.django_db


def feature(comment, note=""):
    comments_feature(comments=Comment.objects.filter(pk=comment.pk), moderator=None, note=note)


def page(client, article, **params):
    response = client.get(article.get_absolute_url(), params)
    assert response.status_code == 200
    return response.content.decode()


def test_the_picks_block_links_each_pick_to_its_place_in_the_thread(
    client, django_capture_on_commit_callbacks
):
    article = make_article()
    root = make_comment(article, author_name="Ann")
    reply = make_comment(article, parent=root, author_name="Bo", body="I was there & saw it.")
    page(client, article)
    with django_capture_on_commit_callbacks(execute=True):
        feature(reply, note="A reader with first-hand knowledge")

    html = page(Client(), article)

    block = html[html.index('<section class="editors-picks"') : html.index("</section>")]
    assert "Editors’ picks" in block
    assert "Bo" in block and "A reader with first-hand knowledge" in block
    assert "I was there &amp; saw it." in block
    assert f'href="/articles/{article.slug}/comments/{reply.pk}/"' in block
    assert "Ann" not in block
    # The block stands above the threads, and the pick carries its badge in place.
    assert html.index("editors-picks") < html.index(f'id="comment-{root.pk}"')
    badge = '<span class="comment-badge comment-badge--pick">Editors’ pick</span>'
    assert html.count(badge) == 1
    assert html.index(badge) > html.index(f'id="comment-{reply.pk}"')


def test_no_picks_no_block_and_no_picks_order(client):
    article = make_article()
    make_comment(article)
    make_comment(article)
    html = page(client, article)
    assert "editors-picks" not in html
    assert "Picks first" not in html


def test_a_removed_pick_leaves_the_block(client, django_capture_on_commit_callbacks):
    from comments.services import comments_remove

    article = make_article()
    comment = make_comment(article, body="Picked then removed.")
    with django_capture_on_commit_callbacks(execute=True):
        feature(comment)
    assert "editors-picks" in page(client, article)
    with django_capture_on_commit_callbacks(execute=True):
        comments_remove(comments=Comment.objects.filter(pk=comment.pk), moderator=None)
    assert "editors-picks" not in page(Client(), article)


def test_the_picks_order_puts_threads_with_a_pick_first(client):
    article = make_article()
    first, second, third = (make_comment(article, body=f"Thread {n}.") for n in range(3))
    make_comment(article, parent=third, body="A picked reply.")
    feature(Comment.objects.get(body="A picked reply."))
    feature(second)

    html = page(client, article, sort="picks")

    order = [html.index(f'id="comment-{c.pk}"') for c in (second, third, first)]
    assert order == sorted(order)
    assert '<span aria-current="true">Picks first</span>' in html
    assert "sort=oldest" in html and "sort=newest" in html


def test_the_picks_order_is_remembered_and_the_permalink_finds_the_page(client, settings):
    from comments.selectors import THREADS_PER_PAGE

    article = make_article()
    threads = [make_comment(article) for _ in range(THREADS_PER_PAGE + 2)]
    last = threads[-1]
    feature(last)
    page(client, article, sort="picks")
    assert client.cookies["comments_sort"].value == "picks"

    response = client.get(reverse("articles:comment_permalink", args=[article.slug, last.pk]))
    assert response["Location"] == f"{article.get_absolute_url()}?sort=picks#comment-{last.pk}"
    unpicked = threads[THREADS_PER_PAGE - 1]
    response = client.get(
        reverse("articles:comment_permalink", args=[article.slug, unpicked.pk])
    )
    assert response["Location"] == (
        f"{article.get_absolute_url()}?sort=picks&page=2#comment-{unpicked.pk}"
    )


def test_the_api_says_which_comments_are_picks_with_their_note(client):
    article = make_article()
    picked = make_comment(article)
    plain = make_comment(article, parent=picked)
    bare = make_comment(article)
    feature(picked, note="Local knowledge")
    feature(bare)

    data = client.get(reverse("articles:api_detail", args=[article.slug])).json()

    [first, second] = data["comments"]["results"]
    assert first["featured"] == {"note": "Local knowledge"}
    assert first["replies"][0]["id"] == plain.pk and first["replies"][0]["featured"] is None
    assert second["featured"] == {"note": None}


def test_the_picks_feed_lists_an_article_s_picks_latest_first(client):
    article = make_article(title="Trial")
    earlier, later, plain = (make_comment(article, body=f"Body {n}") for n in range(3))
    feature(earlier, note="First-hand <account>")
    feature(later)
    feature(make_comment(make_article()))

    response = client.get(reverse("articles:picks_feed", args=[article.slug]))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/rss+xml")
    channel = ElementTree.fromstring(response.content).find("channel")  # noqa: S314
    assert channel.findtext("title") == "Editors’ picks on Trial"
    items = channel.findall("item")
    assert [item.findtext("link") for item in items] == [
        f"http://testserver{later.get_absolute_url()}",
        f"http://testserver{earlier.get_absolute_url()}",
    ]
    assert "First-hand &lt;account&gt;" in items[1].findtext("description")
    assert f'href="{reverse("articles:picks_feed", args=[article.slug])}"' in page(client, article)


def test_the_picks_feed_of_an_unknown_article_is_404(client):
    assert client.get("/articles/no-such-article/picks/feed/").status_code == 404


def test_the_page_keeps_its_queries_with_picks(client, django_assert_max_num_queries, settings):
    settings.ARTICLE_PAGE_CACHE_SECONDS = 0
    article = make_article()
    for n in range(30):
        comment = make_comment(article)
        if n % 3 == 0:
            feature(comment)
    with django_assert_max_num_queries(4):
        page(client, article, sort="picks")
