import pytest
from django.core.cache import caches
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


def test_forgive_takes_one_attempt_back(clock):
    window = FixedWindow("test", Rate(2, 60))
    window.hit(user="ann")
    window.hit(user="ann")
    window.forgive(user="ann")
    assert window.hit(user="ann") is None
    assert window.hit(user="ann") == 20
    window.forgive(user="bob")
    assert window.hit(user="bob") is None


def test_ipv6_addresses_count_per_64_and_mapped_ipv4_as_ipv4(clock):
    window = FixedWindow("test", Rate(2, 60))
    assert window.hit(ip="2001:db8:1:2::1") is None
    assert window.hit(ip="2001:db8:1:2:ffff:ffff:ffff:fffe") is None
    assert window.hit(ip="2001:db8:1:2:abcd::9") == 20
    assert window.hit(ip="2001:db8:1:3::1") is None
    assert window.hit(ip="192.0.2.7") is None
    assert window.hit(ip="::ffff:192.0.2.7") is None
    assert window.hit(ip="192.0.2.7") == 20


def test_counters_live_apart_from_the_page_cache(clock):
    window = FixedWindow("test", Rate(1, 60))
    window.hit(ip="192.0.2.1")
    # Far more page copies than the page cache keeps (300 by default) push nothing out.
    for n in range(1_000):
        caches["pages"].set(f"article-page:{n}", b"x" * 100)
    assert window.hit(ip="192.0.2.1") == 20


def test_with_the_counter_store_away_each_process_still_counts(clock, settings, caplog):
    settings.CACHES = {
        **settings.CACHES,
        "counters": {
            "BACKEND": "newsroom.redis_cache.PooledRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        },
    }
    window = FixedWindow("test", Rate(2, 60))
    assert window.hit(ip="192.0.2.1") is None
    assert window.hit(ip="192.0.2.1") is None
    assert window.hit(ip="192.0.2.1") == 20
    assert "rate limit test counted in this process only" in caplog.text
    window.forgive(ip="192.0.2.1")
    assert window.hit(ip="192.0.2.1") == 20


def test_windows_of_other_names_do_not_share_counts(clock):
    FixedWindow("one", Rate(1, 60)).hit(ip="192.0.2.1")
    assert FixedWindow("two", Rate(1, 60)).hit(ip="192.0.2.1") is None


def test_an_off_rate_never_limits(clock):
    window = FixedWindow("test", None)
    assert all(window.hit(ip="192.0.2.1") is None for _ in range(100))
    window.forgive(ip="192.0.2.1")
