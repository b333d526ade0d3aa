from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from comments import integrity
from comments.integrity import tree_problems, trees_repair
from comments.models import Comment, tree_ids_allocate
from tests.factories import make_article, make_comment

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = StringIO(), StringIO()
    try:
        call_command("check_trees", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return exc, out.getvalue(), err.getvalue()
    return None, out.getvalue(), err.getvalue()


@pytest.fixture
def forest():
    article = make_article()
    root = make_comment(article)
    a = make_comment(article, parent=root)
    a1 = make_comment(article, parent=a)
    b = make_comment(article, parent=root)
    other = make_comment(article)
    other_child = make_comment(article, parent=other)
    return {"article": article, "root": root, "a": a, "a1": a1, "b": b, "other": other,
            "other_child": other_child}


def shape(root):
    """The tree below `root` as (pk, level, lft, rght) in lft order, read afresh."""
    root = Comment.objects.get(pk=root.pk)
    return list(
        Comment.objects.filter(tree_id=root.tree_id).values_list("pk", "level", "lft", "rght")
    )


def test_valid_trees_have_no_problems_and_the_command_says_so(forest):
    assert tree_problems() == {}

    error, out, err = run()

    assert error is None
    assert "All 2 comment trees are valid." in out
    assert err == ""


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (lambda f: {"a1": {"lft": 9, "rght": 3}}, "lft 9 >= rght 3"),
        (lambda f: {"b": {"level": 3}}, "level 3, parent"),
        (lambda f: {"a1": {"lft": 6, "rght": 7}}, "nested in"),
        (lambda f: {"root": {"rght": 40}}, "not the numbers 1..8"),
        (lambda f: {"other": {"tree_id": f["root"].tree_id}}, "2 roots"),
        (lambda f: {"b": {"parent": f["other"]}}, "parent"),
        (lambda f: {"a": {"article": make_article()}}, "several articles"),
        (lambda f: {"a1": {"parent": f["b"]}}, "its parent is"),
    ],
)
def test_each_kind_of_breakage_is_found(forest, breakage, expected):
    for name, fields in breakage(forest).items():
        Comment.objects.filter(pk=forest[name].pk).update(**fields)

    broken = tree_problems()

    assert broken, "the breakage went unnoticed"
    assert any(expected in problem for problems in broken.values() for problem in problems)
    error, _, err = run()
    assert error is not None and error.returncode == 1
    assert "broken" in str(error)
    assert expected in err


def test_repair_rebuilds_a_broken_tree_and_keeps_the_sibling_order(forest):
    before = shape(forest["root"])
    untouched = shape(forest["other"])
    Comment.objects.filter(tree_id=forest["root"].tree_id).update(lft=1, rght=2)

    error, out, _ = run("--repair")

    assert error is None
    assert "Rebuilt 1 tree(s)" in out and "valid now" in out
    assert shape(forest["root"]) == before
    assert shape(forest["other"]) == untouched
    assert tree_problems() == {}


def test_repair_gives_a_second_root_a_tree_of_its_own(forest):
    Comment.objects.filter(pk__in=[forest["other"].pk, forest["other_child"].pk]).update(
        tree_id=forest["root"].tree_id
    )

    assert trees_repair(tree_ids={forest["root"].tree_id}) == {}

    root, other = Comment.objects.get(pk=forest["root"].pk), Comment.objects.get(
        pk=forest["other"].pk)
    assert root.tree_id != other.tree_id
    assert Comment.objects.get(pk=forest["other_child"].pk).tree_id == other.tree_id
    assert [c.pk for c in root.get_children()] == [forest["a"].pk, forest["b"].pk]
    assert tree_problems() == {}


def test_repair_follows_a_reply_left_in_another_tree(forest):
    Comment.objects.filter(pk=forest["a1"].pk).update(tree_id=forest["other"].tree_id)
    broken = tree_problems()
    assert set(broken) == {forest["root"].tree_id, forest["other"].tree_id}
    assert any("parent" in p and "is in tree" in p for p in broken[forest["other"].tree_id])

    error, _, _ = run("--repair")

    assert error is None
    a1 = Comment.objects.get(pk=forest["a1"].pk)
    assert a1.tree_id == forest["root"].tree_id and a1.level == 2
    assert tree_problems() == {}


def test_dry_run_reports_and_changes_nothing(forest):
    Comment.objects.filter(pk=forest["b"].pk).update(level=5)

    error, out, _ = run("--repair", "--dry-run")

    assert error is not None and error.returncode == 1
    assert f"Would rebuild 1 tree(s): {forest['root'].tree_id}." in out
    assert Comment.objects.get(pk=forest["b"].pk).level == 5


def test_dry_run_alone_is_refused():
    error, _, _ = run("--dry-run")

    assert error is not None and "--repair" in str(error)


def test_a_tree_spanning_two_articles_cannot_be_repaired(forest):
    Comment.objects.filter(pk=forest["a"].pk).update(article=make_article())

    error, _, err = run("--repair")

    assert error is not None and "could not be repaired" in str(error)
    assert "still broken" in err


def test_the_check_reads_every_tree_in_one_query(forest, django_assert_num_queries):
    for _ in range(5):
        make_comment(forest["article"], parent=forest["a1"])

    with django_assert_num_queries(1):
        tree_problems()


def test_new_roots_take_unused_tree_ids_from_the_allocator(forest):
    top = max(Comment.objects.values_list("tree_id", flat=True))
    allocated = tree_ids_allocate(3)
    assert allocated == sorted(set(allocated))
    assert min(allocated) > top
    # django-mptt asks the manager for a new root's tree id: it comes from the same allocator,
    # past every id stored (and on PostgreSQL past every id handed out: a sequence).
    root = make_comment(forest["article"])
    assert root.tree_id > (max(allocated) if connection.vendor == "postgresql" else top)
    assert tree_problems() == {}


def test_repair_takes_the_new_tree_ids_from_the_allocator(forest, monkeypatch):
    asked = []

    def allocate(count, **kwargs):
        asked.append(count)
        return tree_ids_allocate(count, **kwargs)

    monkeypatch.setattr(integrity, "tree_ids_allocate", allocate)
    Comment.objects.filter(pk__in=[forest["other"].pk, forest["other_child"].pk]).update(
        tree_id=forest["root"].tree_id
    )
    assert trees_repair(tree_ids={forest["root"].tree_id}) == {}
    assert asked == [1]
    tree_ids = Comment.objects.filter(parent=None).values_list("tree_id", flat=True)
    assert len(set(tree_ids)) == 2
    assert make_comment(forest["article"]).tree_id not in tree_ids
    assert tree_problems() == {}
