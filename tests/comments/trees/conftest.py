"""Fixtures shared by the tests of the comment trees and the check_trees command."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.factories import make_article, make_comment


@pytest.fixture
def check_trees():
    """Run `manage.py check_trees` with the given arguments: (error or None, stdout, stderr)."""

    def run(*args):
        out, err = StringIO(), StringIO()
        try:
            call_command("check_trees", *args, stdout=out, stderr=err)
        except CommandError as exc:
            return exc, out.getvalue(), err.getvalue()
        return None, out.getvalue(), err.getvalue()

    return run


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
