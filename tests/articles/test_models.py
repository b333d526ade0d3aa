"""Article: the stored excerpt, and what the article list reads."""

import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.template.defaultfilters import truncatewords
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from articles.models import Article
from tests.factories import make_article

pytestmark = pytest.mark.django_db

LONG = " ".join(f"word{n}" for n in range(100))


def test_the_excerpt_is_the_first_paragraph_cut_as_the_list_cut_it():
    article = make_article(
        body=[
            {"type": "heading", "text": "Not this"},
            {"type": "paragraph", "text": LONG},
            {"type": "paragraph", "text": "Nor this."},
        ]
    )
    assert article.excerpt == truncatewords(LONG, 40)
    assert Article.objects.get(pk=article.pk).excerpt.endswith("word39 …")
    assert make_article(body=[]).excerpt == ""


def test_saving_the_body_alone_updates_the_excerpt():
    article = make_article()
    article.body = [{"type": "paragraph", "text": "A new start."}]
    article.save(update_fields=["body"])
    assert Article.objects.get(pk=article.pk).excerpt == "A new start."


def test_the_migration_fills_the_excerpts_of_stored_articles():
    article = make_article(body=[{"type": "paragraph", "text": LONG}])
    Article.objects.filter(pk=article.pk).update(excerpt="")
    migration = importlib.import_module("articles.migrations.0002_article_excerpt")
    migration.excerpts_fill(apps, None)
    assert Article.objects.get(pk=article.pk).excerpt == truncatewords(LONG, 40)


def selected_columns(queries) -> list[str]:
    """The SELECT lists of the queries that read articles."""
    return [
        query["sql"].split(" FROM ")[0]
        for query in queries
        if '"articles_article"' in query["sql"] and query["sql"].startswith("SELECT")
    ]


@pytest.mark.parametrize("query", ["", "story"])
def test_the_article_list_reads_no_body(client, query):
    for n in range(3):
        make_article(title=f"Story {n}", body=[{"type": "paragraph", "text": f"{LONG} story"}])
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("articles:list"), {"q": query} if query else {})
    assert response.status_code == 200
    assert response.content.decode().count(truncatewords(LONG, 40)) == 3
    selects = selected_columns(queries)
    assert selects
    for select in selects:
        assert '"body"' not in select and '"body_text"' not in select
        assert '"excerpt"' in select or "COUNT(" in select


def test_the_api_list_reads_no_body(client):
    make_article()
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("articles:api_list")).status_code == 200
    selects = selected_columns(queries)
    assert selects
    assert not any('"body"' in select or '"body_text"' in select for select in selects)
