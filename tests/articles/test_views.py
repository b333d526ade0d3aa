"""The reader pages: the article list, the article page with its discussion, the permalinks,
the error pages."""

import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django.views.defaults import server_error

from articles.importer import article_parse
from articles.models import Article
from articles.services import article_import
from comments import selectors
from comments.layout import FLATTEN_DEPTH, NARROW_DEPTH
from comments.models import Comment
from tests.factories import make_article, make_comment

pytestmark = pytest.mark.django_db

SEEDS = Path(__file__).resolve().parents[2] / "fixtures" / "seeds"


class CommentNesting(HTMLParser):
    """Records, for each `article.comment`, how many comment lists it sits in, and checks
    that every element the discussion opens is closed in order."""

    VOID = {"br", "input", "img", "meta", "link", "hr"}

    def __init__(self):
        super().__init__()
        self.stack: list[tuple[str, bool]] = []
        self.depth_of: dict[int, int] = {}
        self.errors: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.VOID:
            return
        is_list = tag == "ol" and "comment-thread" in (attrs.get("class") or "").split()
        self.stack.append((tag, is_list))
        if tag == "article" and "comment" in (attrs.get("class") or "").split():
            lists = sum(1 for _, listed in self.stack if listed)
            self.depth_of[int(attrs["data-comment-id"])] = lists - 1

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1][0] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1][0] if self.stack else None}")
            return
        self.stack.pop()


def nesting(html: str) -> CommentNesting:
    parser = CommentNesting()
    parser.feed(html)
    parser.close()
    assert parser.errors == []
    assert parser.stack == []
    return parser


def generated_article(comments: int, *, threads: int) -> Article:
    """An imported article: `comments` comments in `threads` threads, replies up to 8 deep."""
    per_thread = comments // threads
    lines = ["A Long Discussion", "", "YEREVAN (RFE/RL)—Something happened.", ""]
    depth = 0
    for n in range(comments):
        if n % per_thread == 0:
            depth = 0
            lines.append(f"  {n // per_thread + 1}. Reader {n} said:")
        else:
            depth = depth + 1 if depth < 8 and n % 3 else max(1, depth - 2)
            lines.append(f"{' ' * (2 + 2 * depth)}• Reader {n} said:")
        lines += ["", f"{' ' * (4 + 2 * depth)}Comment number {n}.", ""]
    result = article_import(parsed=article_parse("\n".join(lines)), source_key=f"gen{comments}")
    return result.article


def detail(client, article, **query):
    return client.get(article.get_absolute_url(), query)


class TestArticleList:
    def test_newest_first_with_dateline_excerpt_and_visible_count(self, client):
        older = make_article(
            title="Older story",
            location="YEREVAN",
            agency="RFE/RL",
            published_at=timezone.now() - timedelta(days=2),
        )
        newer = make_article(title="Newer story", publication="Eurasia Daily Monitor")
        make_comment(older)
        make_comment(older)
        make_comment(older, status=Comment.Status.REMOVED)
        make_comment(older, status=Comment.Status.PENDING)
        response = client.get("/")
        assert response.status_code == 200
        html = response.content.decode()
        assert html.index(newer.title) < html.index(older.title)
        assert "YEREVAN (RFE/RL)" in html
        assert "Eurasia Daily Monitor" in html
        assert "2 comments" in html
        assert "0 comments" in html

    def test_excerpt_is_the_first_paragraph_cut_short(self, client):
        make_article(body=[{"type": "paragraph", "text": " ".join(["word"] * 100)}])
        html = client.get("/").content.decode()
        assert re.search(r'<p class="excerpt">(word ){39}word …</p>', html)

    def test_unpublished_articles_are_not_listed(self, client):
        make_article(title="Tomorrow's news", published_at=timezone.now() + timedelta(days=1))
        assert "Tomorrow" not in client.get("/").content.decode()

    def test_twenty_a_page_with_links(self, client):
        now = timezone.now()
        for n in range(45):
            make_article(title=f"Story number {n:02d}", published_at=now - timedelta(hours=n))
        first = client.get("/").content.decode()
        assert first.count('class="article-summary"') == 20
        assert "Story number 00" in first and "Story number 20" not in first
        assert 'href="?page=2"' in first and 'rel="next"' in first
        third = client.get("/", {"page": 3}).content.decode()
        assert third.count('class="article-summary"') == 5
        assert 'rel="prev"' in third and 'rel="next"' not in third

    @pytest.mark.parametrize("page", ["4", "abc", "-1"])
    def test_a_bad_page_is_a_friendly_404(self, client, page):
        make_article()
        response = client.get("/", {"page": page})
        assert response.status_code == 404
        assert "Page not found" in response.content.decode()

    def test_pages_keep_the_search(self, client):
        for n in range(25):
            make_article(title=f"Armenia story {n}")
        html = client.get("/", {"q": "armenia"}).content.decode()
        assert 'href="?q=armenia&amp;page=2"' in html
        assert 'value="armenia"' in html

    def test_list_queries_are_fixed(self, client, django_assert_max_num_queries):
        for _ in range(30):
            make_comment(make_article())
        with django_assert_max_num_queries(3):
            assert client.get("/").status_code == 200


class TestSearch:
    def test_matches_words_in_title_and_body(self, client):
        make_article(title="Summit cancelled", body=[{"type": "paragraph", "text": "Nothing."}])
        make_article(title="Quiet day", body=[{"type": "paragraph", "text": "The summit is off."}])
        make_article(title="Weather", body=[{"type": "paragraph", "text": "Rain in Yerevan."}])
        html = client.get("/", {"q": "summit"}).content.decode()
        assert "Summit cancelled" in html and "Quiet day" in html
        assert "Weather" not in html
        assert "2 articles found" in html

    def test_every_word_must_match(self, client):
        make_article(title="Russia and Armenia")
        make_article(title="Russia alone")
        html = client.get("/", {"q": "  russia   ARMENIA "}).content.decode()
        assert "Russia and Armenia" in html and "Russia alone" not in html

    def test_no_match_says_so(self, client):
        make_article(title="Something")
        response = client.get("/", {"q": "zzzz"})
        assert response.status_code == 200
        assert "No article matches your search" in response.content.decode()

    @pytest.mark.parametrize("query", ["<script>", "a" * 5000, "'; DROP TABLE x; --", '"', "&|!:*"])
    def test_hostile_queries_answer_calmly(self, client, query):
        make_article(title="Something")
        response = client.get("/", {"q": query})
        assert response.status_code == 200
        assert "<script>" not in response.content.decode().split("<main")[1]

    def test_blank_query_lists_everything(self, client):
        make_article(title="Something")
        assert "Something" in client.get("/", {"q": "   "}).content.decode()

    @pytest.mark.postgres
    def test_postgresql_full_text_search_stems_words(self, client):
        if connection.vendor != "postgresql":
            pytest.skip("full-text search runs on PostgreSQL only: set DATABASE_URL to run it")
        make_article(title="Talks collapse", body=[{"type": "paragraph", "text": "Tanks."}])
        make_article(title="Other", body=[{"type": "paragraph", "text": "They talked."}])
        make_article(title="Unrelated", body=[{"type": "paragraph", "text": "Rain."}])

        def titles(query):
            html = client.get("/", {"q": query}).content.decode()
            return re.findall(r'<h2><a href="[^"]+">([^<]+)</a></h2>', html)

        assert sorted(titles("talking")) == ["Other", "Talks collapse"]
        # Web-search syntax: quoted phrases and excluded words, never a syntax error.
        assert titles('"talks collapse"') == ["Talks collapse"]
        assert titles("talk -tanks") == ["Other"]
        assert titles("&|!:*()") == []

    def test_sqlite_search_is_a_plain_match(self, client):
        if connection.vendor != "sqlite":
            pytest.skip("the plain match is the fallback used on SQLite")
        make_article(title="Deliveries")
        assert "Deliveries" in client.get("/", {"q": "liver"}).content.decode()


class TestArticlePage:
    def test_shows_the_article_from_a_seed(self, client):
        call_command("import_articles", str(SEEDS / "001_72096f80cf22903d.txt"), verbosity=0)
        article = Article.objects.get()
        html = detail(client, article).content.decode()
        assert f"<h1>{article.title}</h1>" in html.replace("&#x27;", "'")
        for caption in article.captions:
            assert caption in html
        assert html.count("<li>" + article.captions[0]) == 1
        headings = [b["text"] for b in article.body if b["type"] == "heading"]
        assert headings and f"<h2>{headings[0]}</h2>" in html
        assert f'<span class="dateline">{article.location} ({article.agency})</span>' in html
        assert "Discussion policy" in html
        assert f"{article.comments.filter(status='published').count()} comments" in html

    def test_publication_and_byline(self, client):
        article = make_article(publication="Asbarez", volume="3", issue="12", byline="Ani Ter")
        html = detail(client, article).content.decode()
        assert "Asbarez, volume 3, issue 12" in html
        assert "By Ani Ter" in html

    def test_comment_markup_follows_the_contract(self, client):
        article = make_article()
        comment = make_comment(article, body="Hello")
        html = detail(client, article).content.decode()
        assert f'id="comment-{comment.pk}" data-comment-id="{comment.pk}"' in html
        reply = reverse("comments:reply", args=[article.slug, comment.pk])
        report = reverse("comments:report", args=[article.slug, comment.pk])
        author = comment.author_name
        assert (
            f'<a class="reply-link" data-comment-id="{comment.pk}" href="{reply}" '
            f'data-author="{author}">'
        ) in html
        assert f'<a class="share-link" href="{comment.get_absolute_url()}"' in html
        assert f'<a class="report-link" href="{report}" data-author="{author}">' in html
        assert '<div class="comment-body"><p>Hello</p></div>' in html
        assert 'src="/static/js/comments.js" defer' in html
        section = html[html.index('<section id="comments"') :]
        assert section.index('class="comment-form') < section.index('class="comment-thread"')

    def test_no_reply_links_when_the_discussion_is_closed(self, client):
        article = make_article(comments_open=False)
        make_comment(article)
        html = detail(client, article).content.decode()
        assert 'class="reply-link"' not in html
        assert 'class="report-link"' in html

    def test_hostile_comment_is_escaped_and_links_are_safe(self, client):
        article = make_article()
        make_comment(
            article,
            author_name="<img src=x onerror=alert(1)>",
            body='<script>alert("x")</script>\nsee http://example.org/x',
        )
        html = detail(client, article).content.decode()
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;<br>see " in html
        assert '<a href="http://example.org/x" rel="nofollow ugc noopener">' in html

    def test_statuses(self, client):
        article = make_article()
        removed = make_comment(article, status=Comment.Status.REMOVED, body="secret words")
        reply = make_comment(article, parent=removed, body="the reply")
        make_comment(article, status=Comment.Status.REMOVED, body="removed alone")
        make_comment(article, status=Comment.Status.SPAM, body="buy pills")
        make_comment(article, status=Comment.Status.PENDING, body="not yet")
        html = detail(client, article).content.decode()
        assert f'id="comment-{removed.pk}"' in html and "[removed]" in html
        assert "secret words" not in html and removed.author_name not in html
        assert "the reply" in html
        for text in ("removed alone", "buy pills", "not yet"):
            assert text not in html
        assert f'id="comment-{reply.pk}"' in html
        assert "1 comment<" in html

    def test_own_pending_comment_shows_awaiting_moderation(self, client):
        article = make_article()
        parent = make_comment(article)
        mine = make_comment(article, parent=parent, status=Comment.Status.PENDING, body="mine")
        theirs = make_comment(article, status=Comment.Status.PENDING, body="theirs")
        session = client.session
        session["comments_own_pending"] = [mine.pk, "junk"]
        session.save()
        html = detail(client, article).content.decode()
        assert f'class="comment comment--pending" id="comment-{mine.pk}"' in html
        assert "awaiting moderation" in html and "mine" in html
        assert "theirs" not in html and f"comment-{theirs.pk}" not in html
        pending = html[html.index(f'id="comment-{mine.pk}"') :]
        pending = pending[: pending.index("</article>")]
        assert "reply-link" not in pending and "report-link" not in pending
        assert f'aria-label="Comment by {mine.author_name}"' in pending

    def test_threads_nest_and_collapse_with_counts(self, client):
        article = make_article()
        root = make_comment(article)
        child = make_comment(article, parent=root)
        grandchild = make_comment(article, parent=child)
        sibling = make_comment(article, parent=root)
        html = detail(client, article).content.decode()
        assert nesting(html).depth_of == {root.pk: 0, child.pk: 1, grandchild.pk: 2, sibling.pk: 1}
        assert html.count('<details class="replies" open>') == 2
        assert "Show </span>3 replies</summary>" in html
        assert "Show </span>1 reply</summary>" in html

    def test_deep_threads_flatten_and_say_whom_they_answer(self, client):
        article = make_article()
        chain = [make_comment(article)]
        for _ in range(FLATTEN_DEPTH + 2):
            chain.append(make_comment(article, parent=chain[-1]))
        html = detail(client, article).content.decode()
        depths = nesting(html).depth_of
        assert [depths[c.pk] for c in chain] == [
            min(level, FLATTEN_DEPTH) for level in range(len(chain))
        ]
        deepest = chain[-1]
        parent = chain[-2]
        own = html[html.index(f'id="comment-{deepest.pk}"') :]
        assert (
            f'in reply to <a href="#comment-{parent.pk}">{parent.author_name}</a>'
            in own[: own.index("</article>")]
        )

    def test_narrow_screens_get_in_reply_to_past_the_narrow_depth(self, client):
        article = make_article()
        chain = [make_comment(article)]
        for _ in range(NARROW_DEPTH + 1):
            chain.append(make_comment(article, parent=chain[-1]))
        html = detail(client, article).content.decode()
        assert html.count("comment-in-reply-to--narrow") == 1
        assert f'id="comment-{chain[-1].pk}"' in html.split("comment-in-reply-to--narrow")[0]

    def test_seeds_render_balanced(self, client):
        call_command("import_articles", str(SEEDS), verbosity=0)
        for article in Article.objects.all():
            response = detail(client, article)
            assert response.status_code == 200
            depths = nesting(response.content.decode()).depth_of
            levels = dict(article.comments.filter(status="published").values_list("pk", "level"))
            assert depths == levels

    def test_sort_newest_first(self, client):
        article = make_article()
        old = make_comment(article)
        new = make_comment(article)
        html = detail(client, article, sort="newest").content.decode()
        assert html.index(f'id="comment-{new.pk}"') < html.index(f'id="comment-{old.pk}"')
        assert '<span aria-current="true">Newest first</span>' in html
        html = detail(client, article, sort="oldest").content.decode()
        assert html.index(f'id="comment-{old.pk}"') < html.index(f'id="comment-{new.pk}"')

    @pytest.mark.parametrize(
        ("query", "target"),
        [
            ({"sort": "bogus"}, ""),
            ({"page": "x"}, ""),
            ({"page": "0"}, ""),
            ({"page": "999"}, ""),
            ({"page": "999", "sort": "newest"}, "?sort=newest"),
        ],
    )
    def test_a_bad_sort_or_page_is_sent_to_the_nearest_page(self, client, query, target):
        article = make_article()
        comment = make_comment(article)
        response = detail(client, article, **query)
        assert response.status_code == 302
        assert response["Location"] == f"{article.get_absolute_url()}{target}"
        response = client.get(article.get_absolute_url(), query, follow=True)
        assert response.status_code == 200
        assert f'id="comment-{comment.pk}"' in response.content.decode()

    def test_threads_paginate_and_keep_the_sort(self, client, monkeypatch):
        monkeypatch.setattr(selectors, "THREADS_PER_PAGE", 2)
        article = make_article()
        roots = [make_comment(article) for _ in range(5)]
        html = detail(client, article, sort="newest", page=2).content.decode()
        shown = [int(pk) for pk in re.findall(r'id="comment-\d+" data-comment-id="(\d+)"', html)]
        assert shown == [roots[2].pk, roots[1].pk]
        assert 'href="?sort=newest&amp;page=3#comments"' in html
        assert 'href="?sort=newest&amp;page=1#comments"' in html
        client.cookies.clear()
        last = detail(client, article, page=99)
        assert last["Location"] == f"{article.get_absolute_url()}?page=3"
        last = detail(client, article, page=3).content.decode()
        assert f'data-comment-id="{roots[4].pk}"' in last

    def test_unknown_or_unpublished_article_is_a_friendly_404(self, client):
        response = client.get("/articles/no-such-thing/")
        assert response.status_code == 404
        assert "Page not found" in response.content.decode()
        future = make_article(published_at=timezone.now() + timedelta(days=1))
        assert detail(client, future).status_code == 404

    def test_a_thousand_comments_in_a_fixed_number_of_queries(
        self, client, django_assert_max_num_queries, settings
    ):
        settings.COMMENTS_REPLIES_SHOWN = 1000
        article = generated_article(1000, threads=40)
        assert article.comments.count() == 1000
        session = client.session
        session["comments_own_pending"] = [1, 2]
        session.save()
        with django_assert_max_num_queries(10):
            response = detail(client, article)
        html = response.content.decode()
        assert html.count('class="comment"') == 1000
        nesting(html)

    def test_no_inline_script_style_or_handlers(self, client):
        call_command("import_articles", str(SEEDS), verbosity=0)
        article = Article.objects.filter(comments__isnull=False).first()
        for url in ("/", article.get_absolute_url(), "/?q=arms", "/articles/nope/"):
            html = client.get(url).content.decode()
            # A JSON-LD data block is never run, so the CSP's script rules do not apply to it.
            scripts = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html)
            assert set(scripts) <= {'<script type="application/ld+json">'}, url
            assert not re.search(r"<style\b", html), url
            assert not re.search(r"\sstyle=", html), url
            assert not re.search(r"\son[a-z]+=", html), url


class TestPermalink:
    def test_redirects_to_the_page_that_shows_the_thread(self, client, monkeypatch):
        monkeypatch.setattr(selectors, "THREADS_PER_PAGE", 2)
        article = make_article()
        roots = [make_comment(article) for _ in range(5)]
        reply = make_comment(article, parent=roots[2])
        response = client.get(reply.get_absolute_url())
        assert response.status_code == 302
        assert response["Location"] == f"{article.get_absolute_url()}?page=2#comment-{reply.pk}"
        response = client.get(roots[0].get_absolute_url())
        assert response["Location"] == f"{article.get_absolute_url()}#comment-{roots[0].pk}"
        response = client.get(roots[4].get_absolute_url(), follow=True)
        assert f'id="comment-{roots[4].pk}"' in response.content.decode()

    def test_unknown_comment_or_wrong_article_is_404(self, client):
        article, other = make_article(), make_article()
        comment = make_comment(other)
        url = reverse("articles:comment_permalink", args=[article.slug, comment.pk])
        assert client.get(url).status_code == 404
        url = reverse("articles:comment_permalink", args=[article.slug, 999999])
        assert client.get(url).status_code == 404

    @pytest.mark.parametrize(
        "status", [Comment.Status.REMOVED, Comment.Status.SPAM, Comment.Status.PENDING]
    )
    def test_a_hidden_comment_answers_like_a_missing_one(self, client, status):
        article = make_article()
        hidden = make_comment(article, status=status)
        make_comment(article, parent=hidden)
        missing = reverse("articles:comment_permalink", args=[article.slug, 999999])
        gone = client.get(missing)
        response = client.get(hidden.get_absolute_url())
        assert (response.status_code, response.content) == (gone.status_code, gone.content)
        assert response.status_code == 404

    def test_the_readers_own_pending_comment_leads_to_it(self, client):
        article = make_article()
        mine = make_comment(article, status=Comment.Status.PENDING)
        session = client.session
        session["comments_own_pending"] = [mine.pk]
        session.save()
        response = client.get(mine.get_absolute_url())
        assert response.status_code == 302
        assert response["Location"] == f"{article.get_absolute_url()}#comment-{mine.pk}"


class TestErrorPages:
    def test_500_needs_no_request_context_and_no_database(self, django_assert_num_queries):
        with django_assert_num_queries(0):
            html = render_to_string("500.html")
            response = server_error(RequestFactory().get("/"))
        assert response.status_code == 500
        assert "Something went wrong" in html
        assert "{%" not in html
        assert not re.search(r"\sstyle=|<style|<script", html)

    def test_404_offers_a_way_on(self, client):
        html = client.get("/nowhere/").content.decode()
        assert 'role="search"' in html
        assert 'href="/"' in html


def _title(html: str) -> str:
    return re.search(r"<title>(.*?)</title>", html).group(1)


def _shown(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<article class="comment[^"]*" id="comment-(\d+)"', html)]


def _long_thread(article, replies: int):
    root = make_comment(article, author_name="Ararat")
    return root, [make_comment(article, parent=root) for _ in range(replies)]


class TestPageNumber:
    def test_the_page_number_stands_above_below_and_in_the_title(self, client, monkeypatch):
        monkeypatch.setattr(selectors, "THREADS_PER_PAGE", 2)
        article = make_article(title="Arms talks")
        for _ in range(5):
            make_comment(article)
        html = detail(client, article, page=2).content.decode()
        assert _title(html) == "Arms talks · Comments page 2 of 3 · Newsroom"
        assert html.count('<p class="discussion-page-number">Page 2 of 3</p>') == 2
        discussion = html[html.index('id="comments"') :]
        top, bottom = (m.start() for m in re.finditer("Page 2 of 3", discussion))
        assert top < discussion.index('class="comment"') < bottom
        # The cached copy says the same to the next reader.
        again = detail(client, article, page=2).content.decode()
        assert _title(again) == _title(html)
        assert again.count("Page 2 of 3</p>") == 2

    def test_a_single_page_says_nothing_of_pages(self, client):
        article = make_article(title="Arms talks")
        make_comment(article)
        html = detail(client, article).content.decode()
        assert _title(html) == "Arms talks · Newsroom"
        assert "discussion-page-number" not in html


class TestNewThreadLandsWhereItShows:
    def test_a_new_thread_posted_from_page_one_opens_the_last_page_with_the_confirmation(
        self, client, monkeypatch, settings, django_capture_on_commit_callbacks
    ):
        monkeypatch.setattr(selectors, "THREADS_PER_PAGE", 2)
        settings.COMMENT_RATE_LIMIT = "off"
        article = make_article()
        for _ in range(4):
            make_comment(article)
        assert detail(client, article, sort="oldest").status_code == 200
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("comments:post", args=[article.slug]),
                {"name": "Ada", "email": "ada@example.com", "body": "A new thread."},
            )
        comment = Comment.objects.get(body="A new thread.")
        permalink = client.get(response["Location"])
        assert permalink["Location"] == f"{article.get_absolute_url()}?page=3#comment-{comment.pk}"
        html = client.get(permalink["Location"].partition("#")[0]).content.decode()
        assert _shown(html) == [comment.pk]
        assert "Thank you, your comment is published." in html
        assert "Page 3 of 3" in html

    def test_newest_first_readers_find_it_on_the_first_page(self, client, monkeypatch):
        monkeypatch.setattr(selectors, "THREADS_PER_PAGE", 2)
        article = make_article()
        roots = [make_comment(article) for _ in range(5)]
        detail(client, article, sort="newest")
        response = client.get(roots[0].get_absolute_url())
        assert response["Location"] == (
            f"{article.get_absolute_url()}?sort=newest&page=3#comment-{roots[0].pk}"
        )
        response = client.get(roots[4].get_absolute_url())
        assert response["Location"] == (
            f"{article.get_absolute_url()}?sort=newest#comment-{roots[4].pk}"
        )


class TestRememberedSort:
    def test_picking_an_order_remembers_it(self, client):
        article = make_article()
        old, new = make_comment(article), make_comment(article)
        response = detail(client, article, sort="newest")
        cookie = response.cookies["comments_sort"]
        assert cookie.value == "newest"
        assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["max-age"] > 0
        again = detail(client, article)
        assert again.status_code == 302
        assert again["Location"] == f"{article.get_absolute_url()}?sort=newest"
        assert "Cookie" in again["Vary"] and "private" in again["Cache-Control"]
        html = client.get(again["Location"]).content.decode()
        assert _shown(html) == [new.pk, old.pk]
        # The page number is kept, with the order.
        assert detail(client, article, page=2)["Location"].endswith("?page=2&sort=newest")
        # Picking the other order remembers that one, and the plain address is then the default.
        assert detail(client, article, sort="oldest").cookies["comments_sort"].value == "oldest"
        assert _shown(detail(client, article).content.decode()) == [old.pk, new.pk]

    def test_a_reader_never_gets_a_copy_in_another_readers_order(self, client, settings):
        article = make_article()
        old, new = make_comment(article), make_comment(article)
        # A plain reader fills the shared copy of the plain address, in the default order.
        assert _shown(detail(client, article).content.decode()) == [old.pk, new.pk]
        client.cookies["comments_sort"] = "newest"
        response = client.get(article.get_absolute_url(), follow=True)
        assert _shown(response.content.decode()) == [new.pk, old.pk]
        client.cookies.clear()
        assert _shown(detail(client, article).content.decode()) == [old.pk, new.pk]

    @pytest.mark.parametrize("kept", ["bogus", "", "oldest"])
    def test_an_unknown_or_default_remembered_order_changes_nothing(self, client, kept):
        article = make_article()
        make_comment(article)
        client.cookies["comments_sort"] = kept
        response = detail(client, article)
        assert response.status_code == 200
        assert "comments_sort" not in response.cookies

    def test_the_default_order_is_a_setting(self, client, settings):
        settings.COMMENTS_DEFAULT_SORT = "newest"
        article = make_article()
        old, new = make_comment(article), make_comment(article)
        html = detail(client, article).content.decode()
        assert _shown(html) == [new.pk, old.pk]
        assert 'href="?sort=oldest#comments">Oldest first</a>' in html
        response = detail(client, article, sort="oldest")
        assert _shown(response.content.decode()) == [old.pk, new.pk]
        assert detail(client, article)["Location"].endswith("?sort=oldest")


class TestMoreReplies:
    def test_a_long_thread_shows_its_first_replies_and_a_link_to_the_rest(self, client, settings):
        settings.COMMENTS_REPLIES_SHOWN = 3
        article = make_article()
        root, replies = _long_thread(article, 5)
        other = make_comment(article)
        html = detail(client, article).content.decode()
        assert _shown(html) == [root.pk, *(r.pk for r in replies[:3]), other.pk]
        url = reverse("articles:thread", args=[article.slug, root.pk])
        assert (
            f'<p class="more-replies"><a class="more-replies-link" href="{url}" '
            f'data-fragment="{url}replies/" data-thread-id="{root.pk}">Show 2 more replies</a></p>'
        ) in html
        # The thread's own count is the whole thread's.
        assert "Show </span>5 replies</summary>" in html
        nesting(html)

    def test_the_cut_keeps_the_pages_queries(self, client, django_assert_max_num_queries):
        article = generated_article(1000, threads=40)
        with django_assert_max_num_queries(10):
            response = detail(client, article)
        html = response.content.decode()
        assert html.count('class="comment"') == 40 * 21
        assert html.count("Show 4 more replies") == 40
        nesting(html)

    def test_the_thread_page_shows_every_reply(self, client, settings):
        settings.COMMENTS_REPLIES_SHOWN = 2
        article = make_article(title="Arms talks")
        root, replies = _long_thread(article, 4)
        deep = make_comment(article, parent=replies[3])
        response = client.get(reverse("articles:thread", args=[article.slug, root.pk]))
        assert response.status_code == 200
        html = response.content.decode()
        assert _title(html) == "Thread by Ararat · Arms talks · Newsroom"
        assert "Thread by Ararat, 5 replies" in html
        assert _shown(html) == [root.pk, *(r.pk for r in replies), deep.pk]
        assert "more-replies" not in html
        assert f'href="{root.get_absolute_url()}"' in html
        nesting(html)

    def test_the_fragment_is_the_thread_as_the_thread_page_shows_it(self, client, settings):
        settings.COMMENTS_REPLIES_SHOWN = 2
        article = make_article()
        root, replies = _long_thread(article, 4)
        url = reverse("articles:thread", args=[article.slug, root.pk])
        fragment = client.get(f"{url}replies/")
        assert fragment.status_code == 200
        body = fragment.content.decode()
        assert body.startswith('<ol class="comment-thread">') and "<html" not in body
        assert _shown(body) == [root.pk, *(r.pk for r in replies)]
        assert body in client.get(url).content.decode()
        nesting(body)

    def test_the_readers_own_pending_reply_shows_on_the_thread_page(self, client):
        article = make_article()
        root, _ = _long_thread(article, 1)
        mine = make_comment(article, parent=root, status=Comment.Status.PENDING)
        url = reverse("articles:thread", args=[article.slug, root.pk])
        assert mine.pk not in _shown(client.get(url).content.decode())
        session = client.session
        session["comments_own_pending"] = [mine.pk]
        session.save()
        assert mine.pk in _shown(client.get(url).content.decode())

    def test_a_reply_an_unknown_or_hidden_thread_is_404(self, client):
        article, other = make_article(), make_article()
        root, replies = _long_thread(article, 1)
        hidden = make_comment(article, status=Comment.Status.REMOVED)
        for slug, pk in [
            (article.slug, replies[0].pk),
            (article.slug, 999999),
            (article.slug, hidden.pk),
            (other.slug, root.pk),
            ("no-such-article", root.pk),
        ]:
            url = reverse("articles:thread", args=[slug, pk])
            assert client.get(url).status_code == 404, (slug, pk)
            assert client.get(f"{url}replies/").status_code == 404, (slug, pk)
        url = reverse("articles:thread", args=[article.slug, root.pk])
        assert client.post(url).status_code == 405

    def test_a_cut_replys_link_leads_to_the_thread_page(self, client, settings):
        settings.COMMENTS_REPLIES_SHOWN = 2
        article = make_article()
        root, replies = _long_thread(article, 3)
        thread = reverse("articles:thread", args=[article.slug, root.pk])
        response = client.get(replies[2].get_absolute_url())
        assert response["Location"] == f"{thread}#comment-{replies[2].pk}"
        response = client.get(replies[1].get_absolute_url())
        assert response["Location"] == f"{article.get_absolute_url()}#comment-{replies[1].pk}"


class TestCommentCount:
    def url(self, article):
        return reverse("articles:comment_count", args=[article.slug])

    def test_answers_the_count_under_the_pages_version_and_304_without_a_query(
        self, client, django_assert_num_queries, django_capture_on_commit_callbacks
    ):
        article = make_article()
        make_comment(article)
        make_comment(article, status=Comment.Status.PENDING)
        first = client.get(self.url(article))
        assert first.status_code == 200
        assert first["Content-Type"] == "application/json"
        assert "no-cache" in first["Cache-Control"]
        data = first.json()
        assert data["count"] == 1
        assert first["ETag"] == f'"{data["version"]}"'
        with django_assert_num_queries(0):
            same = client.get(self.url(article), headers={"if-none-match": first["ETag"]})
        assert same.status_code == 304
        assert same["ETag"] == first["ETag"]
        with django_capture_on_commit_callbacks(execute=True):
            client.post(
                reverse("comments:post", args=[article.slug]),
                {"name": "Ada", "email": "ada@example.com", "body": "Published while read."},
            )
        changed = client.get(self.url(article), headers={"if-none-match": first["ETag"]})
        assert changed.status_code == 200
        assert changed.json()["count"] == 2
        assert changed["ETag"] != first["ETag"]

    def test_the_page_says_where_to_ask_and_what_it_shows(self, client):
        article = make_article()
        make_comment(article)
        html = detail(client, article).content.decode()
        assert (
            f'data-new-comments data-url="{self.url(article)}" data-count="1" '
            'data-poll-seconds="30"'
        ) in html
        assert 'src="/static/js/new-comments.js" defer' in html

    @pytest.mark.parametrize("slug", ["no-such-article", "future"])
    def test_an_unknown_article_is_a_json_404(self, client, slug):
        make_article(slug="future", published_at=timezone.now() + timedelta(days=1))
        response = client.get(reverse("articles:comment_count", args=[slug]))
        assert response.status_code == 404
        assert response.json() == {"error": "not found"}
        assert client.post(reverse("articles:comment_count", args=[slug])).status_code == 405

    def test_with_the_cache_away_the_count_is_read_without_a_version(self, client, monkeypatch):
        from articles import views

        def away(article_id):
            raise ConnectionError("cache away")

        monkeypatch.setattr(views, "article_page_versions", away)
        article = make_article()
        make_comment(article)
        response = client.get(self.url(article), headers={"if-none-match": '"1.2"'})
        assert response.status_code == 200
        assert response.json() == {"version": None, "count": 1}
        assert not response.has_header("ETag")
