import pytest
from django.core.exceptions import ImproperlyConfigured

from newsroom import ratelimit
from newsroom.ratelimit import FixedWindow, Rate, rate_parse


@pytest.mark.parametrize(
    ("value", "expected"),
    [("5/60", Rate(5, 60)), (" 10 / 3600 ", Rate(10, 3600)), ("off", None), ("OFF", None)],
)
def test_rates_are_parsed(value, expected):
    assert rate_parse(value, "SOME_LIMIT") == expected


@pytest.mark.parametrize("value", ["", "5", "5/0", "0/60", "-1/60", "five/60", "5/60/2"])
def test_a_malformed_rate_names_the_setting(value):
    with pytest.raises(ImproperlyConfigured, match='SOME_LIMIT must be "N/SECONDS"'):
        rate_parse(value, "SOME_LIMIT")


@pytest.fixture
def clock(monkeypatch):
    now = [1_000_000.0]
    monkeypatch.setattr(ratelimit.time, "time", lambda: now[0])
    return now


def test_hits_over_the_limit_wait_until_the_window_ends(clock):
    window = FixedWindow("test", Rate(2, 60))
    assert window.hit(ip="192.0.2.1") is None
    assert window.hit(ip="192.0.2.1") is None
    # 1,000,000 is 40 s into its 60-second window.
    assert window.hit(ip="192.0.2.1") == 20
    assert window.hit(ip="192.0.2.2") is None
    clock[0] += 20
    assert window.hit(ip="192.0.2.1") is None


def test_each_value_counts_apart_and_any_one_over_the_limit_blocks(clock):
    window = FixedWindow("test", Rate(1, 60))
    assert window.hit(ip="192.0.2.1", email="a@example.com") is None
    assert window.hit(ip="192.0.2.9", email="A@Example.com ") == 20
    assert window.hit(ip="192.0.2.1", email="b@example.com") == 20
    assert window.hit(ip="192.0.2.9", email=None) == 20


def test_blocked_looks_without_counting(clock):
    window = FixedWindow("test", Rate(2, 60))
    for _ in range(5):
        assert window.blocked(user="ann") is None
    window.hit(user="ann")
    assert window.blocked(user="ann") is None
    window.hit(user="ann")
    assert window.blocked(user="ann") == 20
    assert window.blocked(user="bob") is None


def test_windows_of_other_names_do_not_share_counts(clock):
    FixedWindow("one", Rate(1, 60)).hit(ip="192.0.2.1")
    assert FixedWindow("two", Rate(1, 60)).hit(ip="192.0.2.1") is None


def test_an_off_rate_never_limits(clock):
    window = FixedWindow("test", None)
    assert all(window.hit(ip="192.0.2.1") is None for _ in range(100))
    assert window.blocked(ip="192.0.2.1") is None
