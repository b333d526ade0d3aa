"""The nested-set numbering of a forest, given roots and children in order."""

import pytest

from comments.models import Comment
from comments.trees.checks import tree_problems
from comments.trees.numbering import Position, forest_number
from tests.factories import make_article, make_comment


def numbered(trees, children_of):
    return {
        node: tuple(position)
        for node, position in forest_number(trees, children=lambda n: children_of.get(n, []))
    }


def test_a_forest_of_ids_is_numbered_in_pre_order_following_the_sibling_order():
    children_of = {"r": ["a", "b"], "a": ["a1"], "s": []}

    assert numbered([(7, "r"), (9, "s")], children_of) == {
        "r": (7, 1, 8, 0),
        "a": (7, 2, 5, 1),
        "a1": (7, 3, 4, 2),
        "b": (7, 6, 7, 1),
        "s": (9, 1, 2, 0),
    }
    reordered = numbered([(7, "r")], {**children_of, "r": ["b", "a"]})
    assert reordered["b"] == (7, 2, 3, 1) and reordered["a"] == (7, 4, 7, 1)


def test_nodes_are_yielded_after_their_subtree_with_named_fields():
    order = list(forest_number([(1, "r")], children=lambda n: {"r": ["a"]}.get(n, [])))

    assert [node for node, _ in order] == ["a", "r"]
    assert order[1][1] == Position(tree_id=1, lft=1, rght=4, level=0)


def test_unhashable_nodes_are_numbered_and_children_asked_once_each():
    class Node:
        __hash__ = None

        def __init__(self, *kids):
            self.kids = list(kids)

    leaf = Node()
    mid = Node(leaf)
    root = Node(mid, Node())
    asked = []

    def children(node):
        asked.append(node)
        return node.kids

    positions = list(forest_number([(3, root)], children=children))
    assert len(asked) == len(positions) == 4
    assert [p for n, p in positions if n is leaf] == [(3, 3, 4, 2)]


def test_depth_is_not_limited_by_recursion():
    depth = 5000
    chain = {n: [n + 1] for n in range(depth)}

    positions = numbered([(1, 0)], chain)

    assert positions[0] == (1, 1, 2 * (depth + 1), 0)
    assert positions[depth] == (1, depth + 1, depth + 2, depth)


@pytest.mark.django_db
def test_it_numbers_a_tree_as_django_mptt_rebuilds_it():
    article = make_article()
    root = make_comment(article)
    a = make_comment(article, parent=root)
    make_comment(article, parent=make_comment(article, parent=a))
    make_comment(article, parent=root)
    fields = ("pk", "parent_id", "tree_id", "lft", "rght", "level")
    rows = list(Comment.objects.filter(tree_id=root.tree_id).values_list(*fields))
    children_of: dict[int, list[int]] = {}
    for pk, parent_id, *_ in rows:  # in (tree_id, lft) order: siblings in their order
        children_of.setdefault(parent_id, []).append(pk)
    # django-mptt orders siblings by lft: keep lft, spoil the rest.
    Comment.objects.filter(tree_id=root.tree_id).update(rght=0, level=0)

    ours = numbered([(root.tree_id, root.pk)], children_of)
    Comment.objects.partial_rebuild(root.tree_id)

    theirs = Comment.objects.filter(tree_id=root.tree_id).values_list(*fields)
    assert ours == {pk: (tree_id, lft, rght, level) for pk, _, tree_id, lft, rght, level in theirs}
    assert {pk: (tree_id, lft, rght, level) for pk, _, tree_id, lft, rght, level in rows} == ours
    assert tree_problems() == {}
