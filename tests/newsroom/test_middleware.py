import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from newsroom.middleware import ForwardedForMiddleware


def client_address(forwarded: str | None, *, remote="10.0.0.2") -> str:
    seen = {}

    def view(request):
        seen["ip"] = request.META["REMOTE_ADDR"]
        return HttpResponse()

    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    ForwardedForMiddleware(view)(RequestFactory().get("/", REMOTE_ADDR=remote, **headers))
    return seen["ip"]


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXY_HOPS = 0
    assert client_address("198.51.100.7") == "10.0.0.2"


@pytest.mark.parametrize(
    ("hops", "forwarded", "expected"),
    [
        (1, "198.51.100.7", "198.51.100.7"),
        # The client wrote the first entry itself: only the proxy's own entry counts.
        (1, "203.0.113.66, 198.51.100.7", "198.51.100.7"),
        (2, "203.0.113.66, 198.51.100.7, 10.0.0.9", "198.51.100.7"),
        (1, "2001:db8::1", "2001:db8::1"),
        # Too few entries, or a malformed one: the proxy's own address stays.
        (2, "198.51.100.7", "10.0.0.2"),
        (1, "not-an-address", "10.0.0.2"),
        (1, "", "10.0.0.2"),
        (1, None, "10.0.0.2"),
    ],
)
def test_the_client_is_taken_that_many_entries_from_the_right(settings, hops, forwarded, expected):
    settings.TRUSTED_PROXY_HOPS = hops
    assert client_address(forwarded) == expected
