"""The checks of comment trees, and the check_trees command reporting them."""

import pytest
from django.db import connection

from comments.models import Comment, tree_ids_allocate
from comments.trees.checks import tree_problems
from tests.factories import make_article, make_comment

pytestmark = pytest.mark.django_db


def test_valid_trees_have_no_problems_and_the_command_says_so(forest, check_trees):
    assert tree_problems() == {}

    error, out, err = check_trees()

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
def test_each_kind_of_breakage_is_found(forest, breakage, expected, check_trees):
    for name, fields in breakage(forest).items():
        Comment.objects.filter(pk=forest[name].pk).update(**fields)

    broken = tree_problems()

    assert broken, "the breakage went unnoticed"
    assert any(expected in problem for problems in broken.values() for problem in problems)
    error, _, err = check_trees()
    assert error is not None and error.returncode == 1
    assert "broken" in str(error)
    assert expected in err


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


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (lambda f: {"root": {"level": 2}}, "root at level 2"),
        (
            lambda f: {"other": {"tree_id": f["root"].tree_id, "lft": 6, "rght": 7}},
            "root inside comment",
        ),
        (lambda f: {"a1": {"rght": 6}}, "interval ends outside parent"),
        (lambda f: {"root": {"rght": 9}}, "interval 1..9 does not fit its 3 descendants"),
    ],
)
def test_roots_out_of_place_and_intervals_of_the_wrong_size_are_found(
    forest, breakage, expected
):
    for name, fields in breakage(forest).items():
        Comment.objects.filter(pk=forest[name].pk).update(**fields)

    broken = tree_problems()

    assert any(expected in problem for problems in broken.values() for problem in problems), (
        broken
    )
