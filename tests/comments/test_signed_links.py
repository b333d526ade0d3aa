"""comments/signed_links.py: every mailed link is made and read in one way."""

from datetime import timedelta

import pytest
from django.core import signing

from comments.signed_links import LinkInvalid, link_read, link_sign

SHAPE = {"c": int, "t": (int, type(None))}
DAY = timedelta(days=1)


def test_a_token_reads_back_its_value():
    token = link_sign({"c": 7, "t": None}, salt="one")
    assert link_read(token, salt="one", max_age=DAY, shape=SHAPE) == {"c": 7, "t": None}


def test_a_token_of_another_salt_or_key_is_invalid_not_expired():
    for token in (
        link_sign({"c": 7, "t": 1}, salt="other"),
        signing.dumps({"c": 7, "t": 1}, key="another secret", salt="one"),
        "",
        "not-a-token",
    ):
        with pytest.raises(LinkInvalid) as problem:
            link_read(token, salt="one", max_age=DAY, shape=SHAPE)
        assert not problem.value.expired


def test_an_old_token_is_expired(monkeypatch):
    made = 1_700_000_000
    monkeypatch.setattr("time.time", lambda: made)
    token = link_sign({"c": 7, "t": 1}, salt="one")
    monkeypatch.setattr("time.time", lambda: made + DAY.total_seconds() + 1)
    with pytest.raises(LinkInvalid) as problem:
        link_read(token, salt="one", max_age=DAY, shape=SHAPE)
    assert problem.value.expired


@pytest.mark.parametrize(
    "value",
    [[7, 1], {"c": "7", "t": 1}, {"c": True, "t": 1}, {"t": 1}, {"c": 7, "t": "1"}],
)
def test_a_value_of_another_shape_is_invalid(value):
    with pytest.raises(LinkInvalid):
        link_read(signing.dumps(value, salt="one"), salt="one", max_age=DAY, shape=SHAPE)
