"""The template filters of comments/templatetags/comment_tags.py."""

import pytest

from comments.templatetags.comment_tags import approximate_wait


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (1, "a few seconds"),
        (9, "a few seconds"),
        (10, "about 10 seconds"),
        (37, "about 40 seconds"),
        (45, "about 50 seconds"),
        (54, "about 50 seconds"),
        (55, "about 1 minute"),
        (60, "about 1 minute"),
        (89, "about 1 minute"),
        (90, "about 2 minutes"),
        (356, "about 6 minutes"),
        (3569, "about 59 minutes"),
        (3570, "about 1 hour"),
        (5399, "about 1 hour"),
        (5400, "about 2 hours"),
        (86400, "about 24 hours"),
    ],
)
def test_approximate_wait(seconds, said):
    assert approximate_wait(seconds) == said
