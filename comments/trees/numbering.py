"""The nested-set numbering of a forest: each node's tree_id, lft, rght and level.

Pure: it reads and writes nothing, and knows nothing of where the nodes or their order come
from. The caller names each tree's root and id, and gives every node's children in order.
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import NamedTuple


class Position(NamedTuple):
    """A node's place in its tree, as django-mptt stores it."""

    tree_id: int
    lft: int
    rght: int
    level: int


def forest_number[N](
    trees: Iterable[tuple[int, N]], *, children: Callable[[N], Sequence[N]]
) -> Iterator[tuple[N, Position]]:
    """Number each tree of `trees`, given as (tree_id, root), by a pre-order walk.

    `children(node)` gives a node's children in sibling order; it is called once per node.
    Nodes may be any objects (rows, ids), hashable or not. Each node is yielded with its
    position once its subtree is numbered. The walk is iterative, so depth has no limit.
    """
    for tree_id, root in trees:
        counter = 0
        # (node, level, lft): lft is None until the node is entered, then its subtree follows.
        stack: list[tuple[N, int, int | None]] = [(root, 0, None)]
        while stack:
            node, level, lft = stack.pop()
            counter += 1
            if lft is None:
                stack.append((node, level, counter))
                stack.extend((child, level + 1, None) for child in reversed(children(node)))
            else:
                yield node, Position(tree_id, lft, counter, level)
