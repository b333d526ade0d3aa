import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

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
