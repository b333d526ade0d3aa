"""The client's address, as the throttles and the stored comments read it."""

import pytest
from django.test import RequestFactory

from comments.client import client_ip


@pytest.mark.parametrize(
    ("remote", "expected"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("2001:db8::1", "2001:db8::1"),
        # Written in its one canonical form, so one client is one throttle key.
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
    ],
)
def test_an_address_is_read(remote, expected):
    assert client_ip(RequestFactory().get("/", REMOTE_ADDR=remote)) == expected


@pytest.mark.parametrize("remote", ["", "unknown", "198.51.100.7, 10.0.0.1", "999.1.1.1"])
def test_anything_but_an_address_is_none(remote):
    assert client_ip(RequestFactory().get("/", REMOTE_ADDR=remote)) is None


def test_no_address_is_none():
    request = RequestFactory().get("/")
    del request.META["REMOTE_ADDR"]
    assert client_ip(request) is None
