"""The signed links and the cookie of comments/guests.py."""

from datetime import timedelta

import pytest
from django.core import signing
from django.http import HttpResponse
from django.test import RequestFactory

from comments.guests import (
    LINK_SALT,
    VERIFIED_COOKIE,
    VERIFIED_KEPT,
    VERIFIED_SALT,
    LinkTarget,
    is_verified_here,
    link_read,
    link_token,
    sign_in_url,
    verified_cookie_set,
    verified_emails,
)
from comments.signed_links import LinkInvalid
from tests.factories import make_article, make_comment
from tests.helpers import signed_ago


def test_a_link_names_its_row_and_nonce():
    assert link_read(link_token(pk=42, nonce="abc")) == LinkTarget(pk=42, nonce="abc")


def link_made_ago(monkeypatch, age: timedelta, **target) -> str:
    """A link as it was made `age` ago."""
    return signed_ago(monkeypatch, age, lambda: link_token(**target))


def test_a_link_older_than_a_day_has_expired(monkeypatch):
    fresh = link_made_ago(monkeypatch, timedelta(hours=23, minutes=59), pk=1, nonce="n")
    assert link_read(fresh).pk == 1

    old = link_made_ago(monkeypatch, timedelta(hours=24, minutes=1), pk=1, nonce="n")
    with pytest.raises(LinkInvalid) as problem:
        link_read(old)
    assert problem.value.expired


def _tampered(token: str) -> list[str]:
    """The token with each of its parts (value, timestamp, signature) changed, and cut."""
    value, stamp, signature = token.split(":")
    flip = {"a": "b", "b": "a"}
    changed = [
        ":".join([value[:-1] + flip.get(value[-1], "a"), stamp, signature]),
        ":".join([value, stamp[:-1] + flip.get(stamp[-1], "a"), signature]),
        ":".join([value, stamp, signature[:-1] + flip.get(signature[-1], "a")]),
        token[:-5],
        "",
        "not-a-token",
    ]
    return [candidate for candidate in changed if candidate != token]


def test_a_link_changed_in_any_part_is_invalid():
    token = link_token(pk=7, nonce="nonce")
    for bad in _tampered(token):
        with pytest.raises(LinkInvalid) as problem:
            link_read(bad)
        assert not problem.value.expired


def test_a_link_signed_for_something_else_is_invalid():
    """A remember cookie's value, or a value signed with another salt, is not a link."""
    for forged in (
        signing.dumps({"id": 7, "n": "nonce"}, salt="comments.remember"),
        signing.dumps({"id": 7, "n": "nonce"}, key="another secret", salt=LINK_SALT),
        signing.dumps([7, "nonce"], salt=LINK_SALT),
        signing.dumps({"id": "7", "n": "nonce"}, salt=LINK_SALT),
        signing.dumps({"id": True, "n": "nonce"}, salt=LINK_SALT),
    ):
        with pytest.raises(LinkInvalid):
            link_read(forged)


def _request(cookie: str = ""):
    request = RequestFactory().get("/")
    if cookie:
        request.COOKIES[VERIFIED_COOKIE] = cookie
    return request


def _cookie_after(request, email: str) -> str:
    response = HttpResponse()
    verified_cookie_set(response, request, email)
    morsel = response.cookies[VERIFIED_COOKIE]
    assert morsel["httponly"] and morsel["samesite"] == "Lax"
    return morsel.value


def test_the_cookie_remembers_confirmed_addresses_latest_first():
    first = _cookie_after(_request(), "Ada@Example.com")
    second = _cookie_after(_request(first), "bob@example.com")

    assert verified_emails(_request(second)) == ["bob@example.com", "ada@example.com"]
    assert is_verified_here(_request(second), " ADA@example.com ")
    assert not is_verified_here(_request(second), "carol@example.com")
    assert second.isascii()


def test_the_cookie_keeps_a_few_addresses():
    cookie = ""
    for n in range(VERIFIED_KEPT + 3):
        cookie = _cookie_after(_request(cookie), f"reader{n}@example.com")

    kept = verified_emails(_request(cookie))
    assert len(kept) == VERIFIED_KEPT
    assert kept[0] == f"reader{VERIFIED_KEPT + 2}@example.com"


def test_a_forged_or_foreign_cookie_verifies_nothing():
    for cookie in (
        "ada@example.com",
        signing.dumps(["ada@example.com"], salt="comments.remember"),
        signing.dumps(["ada@example.com"], key="another secret", salt=VERIFIED_SALT),
        signing.dumps("ada@example.com", salt=VERIFIED_SALT),
    ):
        assert not is_verified_here(_request(cookie), "ada@example.com")


@pytest.mark.django_db
def test_the_sign_in_link_comes_back_to_the_discussion_or_the_reply():
    article = make_article(slug="budget")
    parent = make_comment(article)

    assert sign_in_url(article) == "/accounts/login/?next=%2Farticles%2Fbudget%2F%23comments"
    assert sign_in_url(article, parent=parent) == (
        f"/accounts/login/?next=%2Farticles%2Fbudget%2Fcomments%2F{parent.pk}%2Freply%2F"
    )
