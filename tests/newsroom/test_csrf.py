"""newsroom.csrf: the CSRF token masked as Django masks it, from one read of the random source."""

from collections import Counter

import pytest
from django.middleware.csrf import (
    CSRF_ALLOWED_CHARS,
    CSRF_SECRET_LENGTH,
    CsrfViewMiddleware,
    _unmask_cipher_token,
)
from django.test import RequestFactory

from newsroom import csrf


def test_the_token_unmasks_to_the_readers_secret_with_a_new_mask_each_time():
    request = RequestFactory().get("/")
    request.META["CSRF_COOKIE"] = secret = "A" * 16 + "z9" * 8
    tokens = {csrf.get_token(request) for _ in range(50)}
    assert len(tokens) == 50
    for token in tokens:
        assert len(token) == 2 * CSRF_SECRET_LENGTH
        assert set(token) <= set(CSRF_ALLOWED_CHARS)
        assert _unmask_cipher_token(token) == secret
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"] is True


def test_a_reader_without_a_secret_gets_a_new_one_in_the_cookie():
    request = RequestFactory().get("/")
    token = csrf.get_token(request)
    secret = request.META["CSRF_COOKIE"]
    assert len(secret) == CSRF_SECRET_LENGTH
    assert _unmask_cipher_token(token) == secret


def test_every_character_of_the_mask_is_as_likely_as_any_other():
    request = RequestFactory().get("/")
    request.META["CSRF_COOKIE"] = "a" * CSRF_SECRET_LENGTH
    counts = Counter()
    for _ in range(4000):
        counts.update(csrf.get_token(request)[:CSRF_SECRET_LENGTH])
    expected = 4000 * CSRF_SECRET_LENGTH / len(CSRF_ALLOWED_CHARS)
    # 128,000 draws over 62 characters: each count is within 12% of its share (over five
    # standard deviations), and the characters a byte taken modulo 62 would favour (the first
    # 8, by a quarter) are no more common than the others.
    assert set(counts) == set(CSRF_ALLOWED_CHARS)
    assert all(abs(count - expected) < 0.12 * expected for count in counts.values())
    first = sum(counts[char] for char in CSRF_ALLOWED_CHARS[:8]) / 8
    rest = sum(counts[char] for char in CSRF_ALLOWED_CHARS[8:]) / 54
    assert abs(first - rest) < 0.05 * expected


@pytest.mark.parametrize("tamper", [False, True])
def test_djangos_middleware_accepts_the_token_and_refuses_it_tampered(tamper):
    request = RequestFactory().get("/")
    request.META["CSRF_COOKIE"] = secret = "b" * CSRF_SECRET_LENGTH
    token = csrf.get_token(request)
    if tamper:
        token = token[:-1] + ("A" if token[-1] != "A" else "B")
    post = RequestFactory().post("/", {"csrfmiddlewaretoken": token})
    post.COOKIES["csrftoken"] = secret
    middleware = CsrfViewMiddleware(lambda request: None)
    middleware.process_request(post)
    refused = middleware.process_view(post, lambda request: None, (), {})
    assert (refused is not None) is tamper
