"""The reader's own pending comments, as the session holds them."""

import pytest

from comments.session import own_pending_ids


class TestOwnPendingIds:
    def test_reads_whole_numbers_only(self):
        session = {"comments_own_pending": [3, "4", None, True, 5.0, 7]}
        assert own_pending_ids(session) == {3, 7}

    @pytest.mark.parametrize("value", [None, "1,2", 5, {"a": 1}])
    def test_anything_but_a_list_is_ignored(self, value):
        assert own_pending_ids({"comments_own_pending": value}) == frozenset()

    def test_missing(self):
        assert own_pending_ids({}) == frozenset()
