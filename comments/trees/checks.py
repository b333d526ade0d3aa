"""Checks that every comment tree is a valid nested set.

A tree is valid when its nodes' (lft, rght) intervals nest exactly as their parent links say:
one root (parent NULL, level 0, lft 1), every other node inside its parent's interval with
level = parent's level + 1, the numbers 1..2n each used once, and every node in the same
article as its root.
"""

from collections import defaultdict
from dataclasses import dataclass

from comments.models import Comment


@dataclass(frozen=True)
class Node:
    pk: int
    parent_id: int | None
    tree_id: int
    lft: int
    rght: int
    level: int
    article_id: int


def _nodes(tree_ids=None) -> dict[int, list[Node]]:
    """Every node, grouped by tree and ordered by lft, in one query."""
    rows = Comment.objects.order_by("tree_id", "lft", "pk")
    if tree_ids is not None:
        rows = rows.filter(tree_id__in=tree_ids)
    trees: dict[int, list[Node]] = defaultdict(list)
    fields = ("pk", "parent_id", "tree_id", "lft", "rght", "level", "article_id")
    for row in rows.values_list(*fields).iterator(chunk_size=5000):
        trees[row[2]].append(Node(*row))
    return trees


def _tree_problems(nodes: list[Node], tree_of: dict[int, int]) -> list[str]:
    return [
        *_whole_tree_problems(nodes),
        *_nesting_problems(nodes, tree_of),
        *_size_problems(nodes),
    ]


def _whole_tree_problems(nodes: list[Node]) -> list[str]:
    """One root, the numbers 1..2n each used once, one article."""
    problems = []
    roots = [node for node in nodes if node.parent_id is None]
    if len(roots) != 1:
        problems.append(f"{len(roots)} roots (comments {', '.join(str(r.pk) for r in roots)})")
    numbers = [n for node in nodes for n in (node.lft, node.rght)]
    if sorted(numbers) != list(range(1, 2 * len(nodes) + 1)):
        problems.append(f"lft/rght are not the numbers 1..{2 * len(nodes)} each used once")
    articles = {node.article_id for node in nodes}
    if len(articles) > 1:
        problems.append(f"nodes of several articles ({', '.join(map(str, sorted(articles)))})")
    return problems


def _nesting_problems(nodes: list[Node], tree_of: dict[int, int]) -> list[str]:
    """Walk the nodes in lft order: each must be nested in its parent's interval."""
    problems = []
    by_pk = {node.pk: node for node in nodes}
    open_nodes: list[Node] = []  # the intervals enclosing the current node, outermost first
    for node in nodes:
        if node.lft >= node.rght:
            problems.append(f"comment {node.pk}: lft {node.lft} >= rght {node.rght}")
        while open_nodes and open_nodes[-1].rght < node.lft:
            open_nodes.pop()
        enclosing = open_nodes[-1] if open_nodes else None
        problems += _placement_problems(node, enclosing, by_pk, tree_of)
        open_nodes.append(node)
    return problems


def _placement_problems(
    node: Node, enclosing: Node | None, by_pk: dict[int, Node], tree_of: dict[int, int]
) -> list[str]:
    """What is wrong with where `node` sits, given the interval that encloses it."""
    if node.parent_id is None:
        return _root_problems(node, enclosing)
    if node.parent_id not in by_pk:
        other = tree_of.get(node.parent_id)
        where = f"tree {other}" if other is not None else "no tree"
        return [f"comment {node.pk}: parent {node.parent_id} is in {where}"]
    problems = []
    parent = by_pk[node.parent_id]
    if enclosing is None or enclosing.pk != parent.pk:
        inside = f"comment {enclosing.pk}" if enclosing else "no comment"
        problems.append(f"comment {node.pk}: nested in {inside}, but its parent is {parent.pk}")
    elif node.rght >= parent.rght:
        problems.append(f"comment {node.pk}: interval ends outside parent {parent.pk}")
    if node.level != parent.level + 1:
        problems.append(
            f"comment {node.pk}: level {node.level}, parent {parent.pk} at level {parent.level}"
        )
    return problems


def _root_problems(node: Node, enclosing: Node | None) -> list[str]:
    problems = []
    if node.level != 0:
        problems.append(f"comment {node.pk}: root at level {node.level}")
    if enclosing is not None:
        problems.append(f"comment {node.pk}: root inside comment {enclosing.pk}")
    return problems


def _size_problems(nodes: list[Node]) -> list[str]:
    """The first node whose interval does not hold exactly its descendants, if any."""
    open_nodes: list[Node] = []
    sizes: dict[int, int] = defaultdict(int)
    for node in nodes:
        while open_nodes and open_nodes[-1].rght < node.lft:
            open_nodes.pop()
        for ancestor in open_nodes:
            sizes[ancestor.pk] += 1
        open_nodes.append(node)
    for node in nodes:
        if node.rght - node.lft + 1 != 2 * (sizes[node.pk] + 1):
            return [
                f"comment {node.pk}: interval {node.lft}..{node.rght} does not fit its "
                f"{sizes[node.pk]} descendants"
            ]
    return []


def tree_problems(tree_ids=None) -> dict[int, list[str]]:
    """The problems of each broken tree (all trees, or those in `tree_ids`), by tree id.

    An empty dict means every tree checked is valid.
    """
    trees = _nodes(tree_ids)
    tree_of = {node.pk: tree_id for tree_id, nodes in trees.items() for node in nodes}
    if tree_ids is not None:
        # Parents in trees not checked: look up which tree they are in.
        missing = {
            n.parent_id for nodes in trees.values() for n in nodes
            if n.parent_id is not None and n.parent_id not in tree_of
        }
        tree_of.update(Comment.objects.filter(pk__in=missing).values_list("pk", "tree_id"))
    broken = {}
    for tree_id, nodes in trees.items():
        problems = _tree_problems(nodes, tree_of)
        if problems:
            broken[tree_id] = problems
    return broken


def tree_count() -> int:
    return Comment.objects.order_by().values("tree_id").distinct().count()
