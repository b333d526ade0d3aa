import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from newsroom.middleware import ForwardedForMiddleware, RejectNulMiddleware


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


# NUL characters: no page takes one, and PostgreSQL fails on one in a query (a 500).


def assert_refused_for_nul(response):
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == RejectNulMiddleware.MESSAGE


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    ["/?q=%00", "/?q=a%00b", "/api/articles/?q=%00", "/?page=1&q=x%00", "/?q%00=x"],
)
def test_a_nul_in_the_query_string_answers_400(client, url):
    assert_refused_for_nul(client.get(url))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/admin/comments/comment/?q=%00",
        "/admin/comments/comment/?status=%00",
        "/admin/comments/blockedcommenter/?kind__exact=x%00",
        "/admin/articles/article/?q=%00",
    ],
)
def test_a_nul_in_an_admin_list_filter_answers_400(client, django_user_model, url):
    client.force_login(django_user_model.objects.create_superuser("admin", password="x"))
    assert_refused_for_nul(client.get(url))


@pytest.mark.django_db
def test_a_nul_in_form_data_answers_400(client):
    url = "/articles/none/comments/"
    assert_refused_for_nul(client.post(url, {"name": "Ada", "body": "a\x00b"}))
    encoded = "name=Ada&body=a%00b"
    assert_refused_for_nul(
        client.post(url, encoded, content_type="application/x-www-form-urlencoded")
    )
    assert client.post(url, {"name": "Ada", "body": "ab"}).status_code == 404


@pytest.mark.django_db
def test_requests_without_nul_pass(client):
    assert client.get("/?q=talks").status_code == 200
    assert client.get("/api/articles/?q=%2500").status_code == 200
