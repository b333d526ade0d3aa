"""Checks that every comment tree is a valid nested set, and repairs the broken ones.

A tree is valid when its nodes' (lft, rght) intervals nest exactly as their parent links say:
one root (parent NULL, level 0, lft 1), every other node inside its parent's interval with
level = parent's level + 1, the numbers 1..2n each used once, and every node in the same
article as its root.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db import transaction

from comments.locks import lock_article
from comments.models import Comment, tree_ids_allocate


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

    by_pk = {node.pk: node for node in nodes}
    open_nodes: list[Node] = []
    sizes: dict[int, int] = defaultdict(int)
    for node in nodes:
        if node.lft >= node.rght:
            problems.append(f"comment {node.pk}: lft {node.lft} >= rght {node.rght}")
        while open_nodes and open_nodes[-1].rght < node.lft:
            open_nodes.pop()
        for ancestor in open_nodes:
            sizes[ancestor.pk] += 1
        enclosing = open_nodes[-1] if open_nodes else None
        if node.parent_id is None:
            if node.level != 0:
                problems.append(f"comment {node.pk}: root at level {node.level}")
            if enclosing is not None:
                problems.append(f"comment {node.pk}: root inside comment {enclosing.pk}")
        elif node.parent_id not in by_pk:
            other = tree_of.get(node.parent_id)
            where = f"tree {other}" if other is not None else "no tree"
            problems.append(f"comment {node.pk}: parent {node.parent_id} is in {where}")
        else:
            parent = by_pk[node.parent_id]
            if enclosing is None or enclosing.pk != parent.pk:
                inside = f"comment {enclosing.pk}" if enclosing else "no comment"
                problems.append(
                    f"comment {node.pk}: nested in {inside}, but its parent is {parent.pk}"
                )
            elif node.rght >= parent.rght:
                problems.append(f"comment {node.pk}: interval ends outside parent {parent.pk}")
            if node.level != parent.level + 1:
                problems.append(
                    f"comment {node.pk}: level {node.level}, parent {parent.pk} "
                    f"at level {parent.level}"
                )
        open_nodes.append(node)
    for node in nodes:
        if node.rght - node.lft + 1 != 2 * (sizes[node.pk] + 1):
            problems.append(
                f"comment {node.pk}: interval {node.lft}..{node.rght} does not fit its "
                f"{sizes[node.pk]} descendants"
            )
            break
    return problems


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


def _linked_trees(tree_ids: set[int]) -> set[int]:
    """`tree_ids` and every tree linked to them by a parent in another tree."""
    linked = set(tree_ids)
    while True:
        nodes = Comment.objects.filter(tree_id__in=linked)
        parents = Comment.objects.filter(pk__in=nodes.values("parent_id"))
        children = Comment.objects.filter(parent__in=nodes)
        more = set(parents.values_list("tree_id", flat=True))
        more |= set(children.values_list("tree_id", flat=True))
        if more <= linked:
            return linked
        linked |= more


@transaction.atomic
def trees_repair(*, tree_ids: set[int]) -> dict[int, list[str]]:
    """Rebuild the trees in `tree_ids` from their parent links, under their articles' locks.

    Each root keeps a tree of its own (a second root sharing a tree id gets a new one) and
    takes along every comment whose parent links lead to it. Sibling order stays as it was
    where the old numbers allow. Returns the problems still left afterwards (none, unless the
    parent links themselves are broken: a cycle, or replies in another article than their root).
    """
    # Lock the articles of the linked trees, then look again: until its article is locked a
    # tree may still gain replies, or links to another article's trees.
    locked: set[int] = set()
    while True:
        linked = _linked_trees(set(tree_ids))
        articles = set(
            Comment.objects.filter(tree_id__in=linked)
            .order_by()
            .values_list("article_id", flat=True)
            .distinct()
        )
        if articles <= locked:
            break
        for article_id in sorted(articles - locked):
            lock_article(article_id)
        locked |= articles
    rows = list(
        Comment.objects.filter(tree_id__in=linked)
        .order_by("tree_id", "lft", "pk")
        .values_list("pk", "parent_id", "tree_id", "article_id")
    )

    parent_of = {pk: parent_id for pk, parent_id, _, _ in rows}
    tree_of = {pk: tree_id for pk, _, tree_id, _ in rows}
    roots = [(pk, tree_id) for pk, parent_id, tree_id, _ in rows if parent_id is None]
    # A second root in a tree gets a tree of its own.
    roots_per_tree = Counter(tree_id for _, tree_id in roots)
    fresh = iter(tree_ids_allocate(sum(n - 1 for n in roots_per_tree.values())))
    new_tree_of_root: dict[int, int] = {}
    used: set[int] = set()
    for pk, tree_id in roots:
        new_tree_of_root[pk] = next(fresh) if tree_id in used else tree_id
        used.add(new_tree_of_root[pk])

    moves: dict[int, list[int]] = defaultdict(list)
    for pk in parent_of:
        root, seen = pk, set()
        while parent_of.get(root) is not None and root not in seen:
            seen.add(root)
            root = parent_of[root]
        target = new_tree_of_root.get(root)
        if target is not None and target != tree_of[pk]:
            moves[target].append(pk)
    for target, pks in moves.items():
        Comment.objects.filter(pk__in=pks).update(tree_id=target)
    for tree_id in sorted(used):
        Comment.objects.partial_rebuild(tree_id)
    return tree_problems(used | linked)
