"""The admin's paginator for the comment lists, which may hold millions of rows.

Django's paginator counts the whole list (a COUNT(*) over every filtered row) on each page.
This one counts exactly only up to EXACT_UP_TO rows, a bounded count that stops there; a
longer list on PostgreSQL is given the planner's estimate of its rows, which the page shows as
"about", and its page links stop a few pages after the current one, so that no link asks for a
deep offset. Other databases count exactly: they serve small sites.
"""

import json
from functools import cached_property

from django.core.paginator import Paginator
from django.db import connections


def planner_rows(queryset) -> int | None:
    """PostgreSQL's estimate of how many rows `queryset` returns; None on other databases."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class LongListPaginator(Paginator):
    EXACT_UP_TO = 10_000

    # True once `count` is the planner's estimate.
    estimated = False

    @cached_property
    def count(self) -> int:
        rows = self.object_list.order_by().values("pk")
        bounded = rows[: self.EXACT_UP_TO + 1].count()
        if bounded <= self.EXACT_UP_TO:
            return bounded
        estimate = planner_rows(rows)
        if estimate is None:
            return rows.count()
        self.estimated = True
        return max(estimate, bounded)

    def get_elided_page_range(self, number=1, *, on_each_side=3, on_ends=2):
        """The admin's page links; for an estimated count, none past a few after `number`."""
        if not self.estimated:
            yield from super().get_elided_page_range(
                number, on_each_side=on_each_side, on_ends=on_ends
            )
            return
        number = self.validate_number(number)
        last = min(number + on_each_side, self.num_pages)
        if number > on_each_side + on_ends + 1:
            yield from range(1, on_ends + 1)
            yield self.ELLIPSIS
            yield from range(number - on_each_side, last + 1)
        else:
            yield from range(1, last + 1)
        if last < self.num_pages:
            yield self.ELLIPSIS

    @property
    def count_shown(self) -> str:
        """The count as the list's foot gives it: "about 1,000,000" when estimated."""
        return f"about {self.count:,}" if self.estimated else f"{self.count:,}"
