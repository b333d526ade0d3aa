"""The repair of broken comment trees, and check_trees --repair."""

import pytest

from comments.models import Comment, tree_ids_allocate
from comments.trees import repair
from comments.trees.checks import tree_problems
from comments.trees.repair import trees_repair
from tests.factories import make_article, make_comment

pytestmark = pytest.mark.django_db


def shape(root):
    """The tree below `root` as (pk, level, lft, rght) in lft order, read afresh."""
    root = Comment.objects.get(pk=root.pk)
    return list(
        Comment.objects.filter(tree_id=root.tree_id).values_list("pk", "level", "lft", "rght")
    )


def test_repair_rebuilds_a_broken_tree_and_keeps_the_sibling_order(forest, check_trees):
    before = shape(forest["root"])
    untouched = shape(forest["other"])
    Comment.objects.filter(tree_id=forest["root"].tree_id).update(lft=1, rght=2)

    error, out, _ = check_trees("--repair")

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


def test_repair_follows_a_reply_left_in_another_tree(forest, check_trees):
    Comment.objects.filter(pk=forest["a1"].pk).update(tree_id=forest["other"].tree_id)
    broken = tree_problems()
    assert set(broken) == {forest["root"].tree_id, forest["other"].tree_id}
    assert any("parent" in p and "is in tree" in p for p in broken[forest["other"].tree_id])

    error, _, _ = check_trees("--repair")

    assert error is None
    a1 = Comment.objects.get(pk=forest["a1"].pk)
    assert a1.tree_id == forest["root"].tree_id and a1.level == 2
    assert tree_problems() == {}


def test_repair_takes_the_new_tree_ids_from_the_allocator(forest, monkeypatch):
    asked = []

    def allocate(count, **kwargs):
        asked.append(count)
        return tree_ids_allocate(count, **kwargs)

    monkeypatch.setattr(repair, "tree_ids_allocate", allocate)
    Comment.objects.filter(pk__in=[forest["other"].pk, forest["other_child"].pk]).update(
        tree_id=forest["root"].tree_id
    )
    assert trees_repair(tree_ids={forest["root"].tree_id}) == {}
    assert asked == [1]
    tree_ids = Comment.objects.filter(parent=None).values_list("tree_id", flat=True)
    assert len(set(tree_ids)) == 2
    assert make_comment(forest["article"]).tree_id not in tree_ids
    assert tree_problems() == {}


def test_dry_run_reports_and_changes_nothing(forest, check_trees):
    Comment.objects.filter(pk=forest["b"].pk).update(level=5)

    error, out, _ = check_trees("--repair", "--dry-run")

    assert error is not None and error.returncode == 1
    assert f"Would rebuild 1 tree(s): {forest['root'].tree_id}." in out
    assert Comment.objects.get(pk=forest["b"].pk).level == 5


def test_dry_run_alone_is_refused(check_trees):
    error, _, _ = check_trees("--dry-run")

    assert error is not None and "--repair" in str(error)


def test_a_tree_spanning_two_articles_cannot_be_repaired(forest, check_trees):
    Comment.objects.filter(pk=forest["a"].pk).update(article=make_article())

    error, _, err = check_trees("--repair")

    assert error is not None and "could not be repaired" in str(error)
    assert "still broken" in err
