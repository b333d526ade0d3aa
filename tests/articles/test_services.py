"""Storing parsed article files: articles, comment trees, re-imports."""

from datetime import timedelta
from itertools import groupby
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles import services
from articles.cache import article_page_version
from articles.importer import ParseError, article_parse
from articles.models import Article
from articles.services import article_import
from comments.locks import lock_article
from comments.models import Comment
from tests.factories import make_comment

pytestmark = pytest.mark.django_db

SEEDS = Path(__file__).resolve().parents[2] / "fixtures" / "seeds"


def assert_forest_valid() -> None:
    """Every tree's nested-set fields agree with the parent links, tree by tree.

    One root per tree_id with lft 1 and level 0; lft/rght numbered 1..2n without gaps; each
    node inside its parent's interval, one level deeper, in its parent's tree.
    """
    rows = list(
        Comment.objects.order_by("tree_id", "lft").values_list(
            "pk", "parent_id", "tree_id", "lft", "rght", "level"
        )
    )
    tree_of = {pk: tree_id for pk, _, tree_id, *_ in rows}
    for tree_id, group in groupby(rows, key=lambda row: row[2]):
        nodes = list(group)
        roots = [node for node in nodes if node[1] is None]
        assert len(roots) == 1, f"tree {tree_id} has {len(roots)} roots"
        assert roots[0] == nodes[0] and nodes[0][3] == 1 and nodes[0][5] == 0
        edges = sorted(value for node in nodes for value in node[3:5])
        assert edges == list(range(1, 2 * len(nodes) + 1)), f"tree {tree_id} has gaps"
        stack: list[tuple] = []
        for node in nodes:
            pk, parent_id, _, lft, rght, level = node
            assert lft < rght
            while stack and stack[-1][4] < lft:
                stack.pop()
            if stack:
                parent = stack[-1]
                assert parent_id == parent[0], f"comment {pk} is outside its parent's interval"
                assert rght < parent[4] and level == parent[5] + 1
                assert tree_of[parent_id] == tree_id
            else:
                assert parent_id is None
            stack.append(node)


def import_seed(name: str):
    path = SEEDS / name
    return article_import(parsed=article_parse(path.read_bytes()), source_key=path.stem)


def import_text(text: str, source_key: str = "story"):
    return article_import(parsed=article_parse(text), source_key=source_key)


def snapshot() -> list[tuple]:
    return [
        tuple(row.values())
        for row in Comment.objects.order_by("pk").values()
    ] + [tuple(row.values()) for row in Article.objects.order_by("pk").values()]


def keyed(article) -> dict[str, Comment]:
    return {c.import_key: c for c in Comment.objects.for_article(article).imported()}


def test_seeds_give_five_articles_and_39_comments_nested_as_in_the_files():
    results = [import_seed(path.name) for path in sorted(SEEDS.glob("*.txt"))]
    assert [r.created for r in results] == [True] * 5
    assert Article.objects.count() == 5
    assert Comment.objects.count() == 39
    per_file = {
        r.article.source_key[:3]: (
            r.article.comments.count(),
            max(r.article.comments.values_list("level", flat=True), default=None),
        )
        for r in results
    }
    assert per_file == {
        "000": (11, 2), "001": (6, 1), "002": (15, 2), "003": (0, None), "004": (7, 1),
    }
    assert_forest_valid()
    assert Comment.objects.filter(parent=None).count() == 9 + 4 + 10 + 6
    assert set(Comment.objects.values_list("status", flat=True)) == {"published"}


def test_seed_000_fields_tree_order_and_repost_flag():
    article = import_seed("000_d0250cf769dc7508.txt").article
    article.refresh_from_db()
    assert article.source_key == "000_d0250cf769dc7508"
    assert article.slug == "sarkisian-concerned-over-russian-arms-sales-to-baku"
    assert (article.location, article.agency) == ("BUENOS AIRES", "RFE/RL")
    assert len(article.captions) == 1
    assert article.body[0]["text"].startswith("President Serzh Sarkisian has reportedly")
    assert article.body_text.startswith("President Serzh Sarkisian has reportedly")
    assert article.discussion_policy.startswith("Comments are welcomed")
    comments = list(Comment.objects.for_article(article).order_by("tree_id", "lft"))
    assert [c.import_key for c in comments] == [
        "1", "2", "3", "3.1", "3.1.1", "4", "5", "6", "7", "8", "9",
    ]
    by_key = {c.import_key: c for c in comments}
    assert by_key["3.1.1"].parent == by_key["3.1"]
    assert by_key["3.1"].parent == by_key["3"]
    assert by_key["3.1.1"].level == 2
    assert [c.thread_position for c in comments if c.parent_id is None] == list(range(1, 10))
    assert len({c.tree_id for c in comments if c.parent_id is None}) == 9
    assert [k for k, c in by_key.items() if c.is_duplicate] == ["4"]
    assert by_key["4"].author_name == "ohannes boghossian"
    assert {c.author_email for c in comments} == {""}
    assert by_key["2"].body.count("\n") == 3


def test_seed_001_caption_once_and_subheading_stored_as_heading():
    article = import_seed("001_72096f80cf22903d.txt").article
    article.refresh_from_db()
    assert article.captions == [
        "President Serzh Sarkisian (right) discusses Artsakh with Russian Prime Minister "
        "Dmitry Medvedev"
    ]
    assert {"type": "heading", "text": "Armenia Blasts Kazakhstan Over Summit Cancellation"} in (
        article.body
    )


def test_seed_003_metadata_and_004_agency():
    eurasia = import_seed("003_3276b30b763cc5a2.txt").article
    tass = import_seed("004_de28ef22d8f50bdd.txt").article
    eurasia.refresh_from_db()
    tass.refresh_from_db()
    assert (eurasia.publication, eurasia.volume, eurasia.issue, eurasia.byline) == (
        "Eurasia Daily Monitor", "15", "47", "",
    )
    assert len(eurasia.body) == 6 and eurasia.location == ""
    assert (tass.location, tass.agency) == ("MOSCOW", "TASS News")


def test_trees_of_new_articles_follow_the_ones_already_stored():
    import_seed("000_d0250cf769dc7508.txt")
    top = max(Comment.objects.values_list("tree_id", flat=True))
    article = import_seed("002_d5e8f4d8fcec2834.txt").article
    roots = Comment.objects.for_article(article).filter(parent=None).order_by("thread_position")
    assert [c.tree_id for c in roots] == list(range(top + 1, top + 11))
    assert_forest_valid()


def test_query_count_does_not_grow_with_the_comments(django_assert_num_queries):
    def story(threads: int) -> str:
        lines = ["Counting", "", "Body."]
        for n in range(1, threads + 1):
            lines += [f"  {n}. Reader {n} said:", "", f"    Comment {n}."]
            lines += ["    • Replier said:", "", f"      Reply to {n}."]
            lines += ["      • Third said:", "", f"        Deeper on {n}."]
        return "\n".join(lines)

    # The import's savepoint and release, find the article, its slug, insert it, set the lock
    # timeout (PostgreSQL only), lock it, allocate tree ids (a sequence on PostgreSQL,
    # MAX(tree_id) elsewhere), one insert per level (3), duplicates_mark (savepoint, read,
    # count, release).
    expected = 14 + (connection.vendor == "postgresql")
    with django_assert_num_queries(expected):
        import_text(story(2), "small")
    with django_assert_num_queries(expected):
        import_text(story(300), "large")
    assert Comment.objects.count() == 3 * 302
    assert_forest_valid()


def test_reimport_of_an_unchanged_file_writes_nothing(django_capture_on_commit_callbacks):
    for path in sorted(SEEDS.glob("*.txt")):
        import_seed(path.name)
    before = snapshot()
    with (
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks() as callbacks,
    ):
        results = [import_seed(path.name) for path in sorted(SEEDS.glob("*.txt"))]
    assert [(r.created, r.changed) for r in results] == [(False, False)] * 5
    writes = [
        q["sql"] for q in queries if q["sql"].upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []
    assert callbacks == []
    assert snapshot() == before


def test_a_new_article_invalidates_its_page(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        article = import_seed("004_de28ef22d8f50bdd.txt").article
    before = article_page_version(article.pk)
    for callback in callbacks:
        callback()
    assert article_page_version(article.pk) > before


def test_locks_only_its_article_inside_the_transaction(monkeypatch):
    taken = []

    def take(article_id):
        taken.append((article_id, connection.in_atomic_block))
        lock_article(article_id)

    monkeypatch.setattr(services, "lock_article", take)
    article = import_seed("004_de28ef22d8f50bdd.txt").article
    import_seed("004_de28ef22d8f50bdd.txt")
    # No table-wide lock: new trees take their ids from comments.models.tree_ids_allocate.
    assert not hasattr(services, "lock_forest")
    assert taken == [(article.pk, True)] * 2


def test_slugs_are_unique_and_deduplicated():
    same = "Same Title\n\nBody.\n"
    slugs = [import_text(same, f"file{n}").article.slug for n in range(3)]
    assert slugs == ["same-title", "same-title-2", "same-title-3"]
    assert import_text("Հայաստան\n\nBody.\n", "armenian_story").article.slug == "armenian_story"


def test_published_at_and_slug_are_set_at_first_import_only():
    article = import_text("Old Title\n\nBody.\n").article
    long_ago = timezone.now() - timedelta(days=400)
    Article.objects.filter(pk=article.pk).update(published_at=long_ago, comments_open=False)
    result = import_text("New Title\n\nOther body.\n")
    article.refresh_from_db()
    assert (result.created, result.changed) == (False, True)
    assert (article.title, article.slug) == ("New Title", "old-title")
    assert article.body == [{"type": "paragraph", "text": "Other body."}]
    assert article.body_text == "Other body."
    assert article.published_at == long_ago
    assert article.comments_open is False
    assert Article.objects.count() == 1


FIRST = """Changing Story

Body.

  1. Ann said:

    First version.

    • Bob said:

      Bob replies.

  2. Cid said:

    Cid here.

  3. Dee said:

    Dee here.

  4. Eve said:

    Eve here.
"""

SECOND = """Changing Story

Body, edited.

  1. Ann said:

    Second version.

    • Bob said:

      Bob replies.

    • Newcomer said:

      A new reply inside an existing tree.

      • Deeper said:

        And a reply to it.

  2. Cid said:

    Cid here.

  3. Dee said:

    Dee here.

  4. Eve said:

    Eve here.

  5. Fay said:

    A new thread.
"""


def test_a_changed_file_updates_in_place_adds_and_marks_disappeared_removed():
    article = import_text(FIRST).article
    first = keyed(article)
    # Moderators decided on 2 (spam) and 3 (removed); a reader replied to 1 on the site.
    Comment.objects.filter(pk=first["2"].pk).update(status="spam", moderated_at=timezone.now())
    Comment.objects.filter(pk=first["3"].pk).update(status="removed", moderated_at=timezone.now())
    site_reply = make_comment(article, parent=Comment.objects.get(pk=first["1"].pk))
    site_thread = make_comment(article, thread_position=9)

    without_eve_and_bob = FIRST.replace("    • Bob said:\n\n      Bob replies.\n\n", "").replace(
        "  4. Eve said:\n\n    Eve here.\n", ""
    )
    result = import_text(without_eve_and_bob)
    assert (result.added, result.updated, result.removed) == (0, 0, 2)
    removed = keyed(article)
    assert removed["4"].status == removed["1.1"].status == "removed"
    assert removed["1.1"].moderated_at is None

    result = import_text(SECOND)
    assert (result.created, result.added, result.updated, result.removed) == (False, 3, 3, 0)
    after = keyed(article)
    assert {key: c.pk for key, c in after.items() if key in first} == {
        key: c.pk for key, c in first.items()
    }
    assert after["1"].body == "Second version."
    assert (after["1.1"].status, after["4"].status) == ("published", "published")
    assert (after["2"].status, after["3"].status) == ("spam", "removed")
    assert after["1.2"].parent_id == after["1"].pk
    assert after["1.2.1"].parent_id == after["1.2"].pk and after["1.2.1"].level == 2
    assert after["5"].parent_id is None and after["5"].thread_position == 5
    assert after["1.2"].tree_id == after["1"].tree_id
    site_reply.refresh_from_db()
    site_thread.refresh_from_db()
    assert (site_reply.parent_id, site_reply.tree_id) == (after["1"].pk, after["1"].tree_id)
    assert (site_reply.import_key, site_reply.status) == ("", "published")
    assert site_thread.parent_id is None and site_thread.thread_position == 9
    # The site reply stays after the imported sibling it followed (Bob's), before Newcomer.
    replies = Comment.objects.filter(parent=after["1"]).order_by("lft")
    assert [c.pk for c in replies] == [after["1.1"].pk, site_reply.pk, after["1.2"].pk]
    assert Comment.objects.for_article(article).count() == 5 + 3 + 2
    assert_forest_valid()

    again = import_text(SECOND)
    assert (again.added, again.updated, again.removed, again.changed) == (0, 0, 0, False)


def test_moderator_decisions_survive_even_when_the_comment_leaves_the_file():
    article = import_text(FIRST).article
    eve = keyed(article)["4"]
    Comment.objects.filter(pk=eve.pk).update(status="pending", moderated_at=timezone.now())
    result = import_text(FIRST.replace("  4. Eve said:\n\n    Eve here.\n", ""))
    eve.refresh_from_db()
    assert (result.removed, eve.status) == (0, "pending")


def test_a_moderator_move_is_kept_by_a_reimport():
    article = import_text(FIRST).article
    before = keyed(article)
    bob = Comment.objects.get(pk=before["1.1"].pk)
    bob.move_to(Comment.objects.get(pk=before["3"].pk), "last-child")
    result = import_text(FIRST)
    bob.refresh_from_db()
    assert bob.parent_id == before["3"].pk
    assert result.updated == 0
    assert_forest_valid()


def test_deep_nesting_is_stored_with_valid_trees():
    lines = ["Deep", "", "Body.", "", "  1. Root said:", "", "    Root."]
    for depth in range(1, 7):
        indent = " " * (2 + 2 * depth)
        lines += [f"{indent}• Level {depth} said:", "", f"{indent}  At depth {depth}."]
    lines += ["    • Second said:", "", "      Back up."]
    article = import_text("\n".join(lines)).article
    rows = list(Comment.objects.for_article(article).order_by("lft"))
    assert [c.level for c in rows] == [0, 1, 2, 3, 4, 5, 6, 1]
    assert rows[6].import_key == "1.1.1.1.1.1.1"
    assert rows[0].rght == 16 and rows[-1].lft == 14
    assert_forest_valid()


def test_too_long_values_are_refused_with_the_line_and_nothing_stored():
    long_name = "x" * 201
    with pytest.raises(ParseError) as caught:
        import_text(f"Title\n\nBody.\n\n  1. {long_name} said:\n\n    Hi.\n")
    assert (caught.value.line, caught.value.reason) == (
        5, "the author name is longer than 200 characters",
    )
    lines = ["Title", "", "Body.", "", "  1. Root said:"]
    lines += [f"{' ' * (2 + 2 * depth)}• Level {depth} said:" for depth in range(1, 60)]
    with pytest.raises(ParseError) as caught:
        import_text("\n".join(lines))
    assert caught.value.line == 5 + 50
    assert caught.value.reason.startswith("the reply is nested too deep")
    with pytest.raises(ParseError) as caught:
        import_text("Title\n\nBody.\n", "k" * 201)
    assert caught.value.line is None
    assert Article.objects.count() == Comment.objects.count() == 0


def test_a_failure_after_writing_leaves_nothing_behind(monkeypatch):
    def fail(**kwargs):
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(services, "duplicates_mark", fail)
    with pytest.raises(RuntimeError):
        import_seed("000_d0250cf769dc7508.txt")
    assert Article.objects.count() == Comment.objects.count() == 0
