from datetime import timedelta

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from articles.cache import article_page_version
from articles.models import Article
from tests.factories import make_article, make_comment

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:articles_article_changelist")


def listed(client, **params):
    response = client.get(CHANGELIST, params)
    assert response.status_code == 200
    return response, [a.pk for a in response.context["cl"].result_list]


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def test_the_list_shows_visible_and_waiting_counts_and_links(admin_client):
    article = make_article(title="Summit cancelled")
    for status in ["published", "published", "pending", "removed", "spam"]:
        make_comment(article, status=status)

    response, _ = listed(admin_client)

    row = response.context["cl"].result_list[0]
    assert (row.visible_comment_count, row.waiting_comment_count) == (2, 1)
    html = response.content.decode()
    queue = reverse("admin:comments_commentqueue_changelist")
    assert f'href="{queue}?article__id__exact={article.pk}"' in html
    assert f'href="{article.get_absolute_url()}"' in html


def test_the_list_does_a_fixed_number_of_queries(admin_client):
    make_comment(make_article())
    with CaptureQueriesContext(connection) as few:
        listed(admin_client)

    for _ in range(40):
        article = make_article()
        make_comment(article)
        make_comment(article, status="pending")
    with CaptureQueriesContext(connection) as many:
        listed(admin_client)

    assert len(many) == len(few)


def test_search_and_filter_by_publication(admin_client):
    armenian = make_article(title="Putin and Yerevan", publication="Asbarez")
    other = make_article(title="Tallinn news", publication="ERR")

    assert listed(admin_client, q="yerevan")[1] == [armenian.pk]
    assert listed(admin_client, publication="ERR")[1] == [other.pk]


def test_close_and_open_comments_actions(
    admin_client, admin_user, django_capture_on_commit_callbacks
):
    first = make_article(published_at=timezone.now() - timedelta(days=1))
    second = make_article(published_at=timezone.now() - timedelta(days=2))
    already_closed = make_article(comments_open=False)
    version = article_page_version(first.pk)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            CHANGELIST,
            {
                "action": "close_comments",
                "_selected_action": [first.pk, second.pk, already_closed.pk],
            },
            follow=True,
        )

    assert messages_of(response) == ["Comments closed on 2 articles."]
    assert not Article.objects.filter(comments_open=True).exists()
    assert article_page_version(first.pk) > version
    entries = LogEntry.objects.filter(action_flag=CHANGE, user=admin_user)
    assert sorted(int(e.object_id) for e in entries) == sorted([first.pk, second.pk])

    response = admin_client.post(
        CHANGELIST, {"action": "open_comments", "_selected_action": [first.pk]}, follow=True
    )

    assert messages_of(response) == ["Comments opened on 1 article."]
    assert Article.objects.get(pk=first.pk).comments_open
    assert not Article.objects.get(pk=second.pk).comments_open


def test_an_editor_attaches_watch_phrases_on_the_article_s_page(admin_client):
    from comments.models import WatchPhrase
    from tests.helpers import article_admin_data

    article = make_article()
    url = reverse("admin:articles_article_change", args=[article.pk])
    assert "Watch phrases" in admin_client.get(url).content.decode()

    data = article_admin_data(
        article,
        **{
            "watch_phrases-TOTAL_FORMS": "2",
            "watch_phrases-0-phrase": "Jane Roe",
            "watch_phrases-0-note": "Active case",
            "watch_phrases-1-phrase": "   ",
        },
    )
    response = admin_client.post(url, data)

    assert response.status_code == 302
    assert list(WatchPhrase.objects.values_list("article", "phrase", "note")) == [
        (article.pk, "Jane Roe", "Active case")
    ]
