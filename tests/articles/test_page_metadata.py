"""What the reader pages tell browsers, search engines and archives beside the text: the
publication date, the meta tags, the schema.org record."""

from datetime import UTC, datetime

import pytest

from tests.factories import make_article

pytestmark = pytest.mark.django_db

PUBLISHED = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
# The site's one date format (comments/rendering.py), with whole seconds in `datetime`.
PUBLISHED_TIME = '<time datetime="2026-03-04T05:06:07+00:00">4 Mar 2026, 05:06</time>'


class TestPublicationDate:
    def test_in_the_article_list(self, client):
        make_article(published_at=PUBLISHED)
        html = client.get("/").content.decode()
        assert f'<p class="published">{PUBLISHED_TIME}</p>' in html

    def test_on_the_article_page(self, client):
        article = make_article(published_at=PUBLISHED, byline="Ani Ter")
        html = client.get(article.get_absolute_url()).content.decode()
        assert f'<span class="published">{PUBLISHED_TIME}</span>' in html

    def test_on_an_article_without_publication_or_byline(self, client):
        article = make_article(published_at=PUBLISHED)
        html = client.get(article.get_absolute_url()).content.decode()
        assert f'<span class="published">{PUBLISHED_TIME}</span>' in html

    def test_in_the_sites_time_zone(self, client, settings):
        settings.TIME_ZONE = "Asia/Yerevan"
        article = make_article(published_at=PUBLISHED)
        html = client.get(article.get_absolute_url()).content.decode()
        assert '<time datetime="2026-03-04T09:06:07+04:00">4 Mar 2026, 09:06</time>' in html
