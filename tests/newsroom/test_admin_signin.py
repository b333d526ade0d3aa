import re
import threading
import time

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory
from django.urls import reverse

from newsroom.admin import ThrottledAuthenticationForm

pytestmark = pytest.mark.django_db

LOGIN = reverse("admin:login")


@pytest.fixture
def moderator():
    return get_user_model().objects.create_user(
        "editor", password="correct horse battery staple", is_staff=True
    )


def sign_in(client, password, *, username="editor", ip="203.0.113.5"):
    return client.post(
        LOGIN,
        {"username": username, "password": password, "next": reverse("admin:index")},
        REMOTE_ADDR=ip,
    )


def test_a_moderator_signs_in(client, moderator):
    response = sign_in(client, "correct horse battery staple")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")


def test_after_too_many_failures_even_the_right_password_waits(client, moderator, settings):
    settings.ADMIN_LOGIN_RATE_LIMIT = "3/900"
    for _ in range(3):
        response = sign_in(client, "wrong")
        assert "Please enter the correct username and password" in response.content.decode()
    response = sign_in(client, "correct horse battery staple")
    assert response.status_code == 200
    assert "Too many failed sign-ins" in response.content.decode()
    wait = re.search(r"please wait (\d+) minutes?", response.content.decode())
    assert wait and 1 <= int(wait[1]) <= 15
    assert "_auth_user_id" not in client.session


def test_failures_count_per_user_name_across_addresses(client, moderator, settings):
    settings.ADMIN_LOGIN_RATE_LIMIT = "2/900"
    sign_in(client, "wrong", ip="198.51.100.1")
    sign_in(client, "wrong", ip="198.51.100.2")
    response = sign_in(client, "correct horse battery staple", ip="198.51.100.3")
    assert "Too many failed sign-ins" in response.content.decode()


def test_failures_count_per_address_across_user_names(client, moderator, settings):
    settings.ADMIN_LOGIN_RATE_LIMIT = "2/900"
    sign_in(client, "wrong", username="alice")
    sign_in(client, "wrong", username="bob")
    response = sign_in(client, "correct horse battery staple")
    assert "Too many failed sign-ins" in response.content.decode()
    # Another address may still sign in to the same account.
    assert sign_in(client, "correct horse battery staple", ip="192.0.2.9").status_code == 302


def test_the_throttle_can_be_switched_off(client, moderator, settings):
    settings.ADMIN_LOGIN_RATE_LIMIT = "off"
    for _ in range(10):
        sign_in(client, "wrong")
    assert sign_in(client, "correct horse battery staple").status_code == 302


class SlowWrongPasswords:
    """An authentication backend that takes its time and refuses everyone, counting checks."""

    checks = 0
    lock = threading.Lock()

    def authenticate(self, request, username=None, password=None, **kwargs):
        with SlowWrongPasswords.lock:
            SlowWrongPasswords.checks += 1
        time.sleep(0.05)
        return None

    def get_user(self, user_id):
        return None


def test_concurrent_wrong_guesses_get_at_most_the_limit_of_password_checks(settings):
    settings.ADMIN_LOGIN_RATE_LIMIT = "5/900"
    settings.AUTHENTICATION_BACKENDS = [f"{__name__}.SlowWrongPasswords"]
    SlowWrongPasswords.checks = 0
    start = threading.Barrier(16)
    codes = []

    def guess(n):
        request = RequestFactory().post(LOGIN, REMOTE_ADDR="203.0.113.5")
        form = ThrottledAuthenticationForm(
            request, data={"username": "editor", "password": f"guess {n}"}
        )
        start.wait()
        form.is_valid()
        codes.extend(error.code for error in form.errors.as_data()["__all__"])

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Each guess counts for the address and the user name; one over the limit on either is
    # refused, so interleaved counts may let fewer than five through, never more.
    checks = SlowWrongPasswords.checks
    assert 1 <= checks <= 5
    assert sorted(codes) == ["invalid_login"] * checks + ["throttled"] * (16 - checks)


def test_with_the_counter_store_away_sign_ins_are_still_throttled(
    client, moderator, settings, caplog
):
    settings.CACHES = {
        **settings.CACHES,
        "counters": {
            "BACKEND": "newsroom.redis_cache.PooledRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        },
    }
    settings.ADMIN_LOGIN_RATE_LIMIT = "3/900"
    for _ in range(3):
        assert "Please enter the correct" in sign_in(client, "wrong").content.decode()
    assert "Too many failed sign-ins" in sign_in(client, "wrong").content.decode()
    assert "counted in this process only" in caplog.text


def test_a_successful_sign_in_takes_its_count_back(client, moderator, settings):
    settings.ADMIN_LOGIN_RATE_LIMIT = "2/900"
    for _ in range(3):
        assert sign_in(Client(), "correct horse battery staple").status_code == 302
    sign_in(client, "wrong")
    assert sign_in(client, "correct horse battery staple").status_code == 302
