"""Repair of broken comment trees: each is numbered again from its parent links."""

from collections import Counter, defaultdict

from django.db import transaction

from comments.locks import lock_article
from comments.models import Comment, tree_ids_allocate
from comments.trees.checks import tree_problems


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
