import subprocess
import sys

import pytest
from django.urls import reverse

from comments.models import Comment
from comments.ratelimit import posting_throttle
from comments.templatetags.comment_tags import approximate_wait
from tests.factories import make_article

pytestmark = pytest.mark.django_db


def data(n, email="ada@example.com"):
    return {"name": "Ada", "email": email, "body": f"Comment number {n}.", "parent": ""}


def test_a_malformed_setting_stops_start_up():
    env = {"DJANGO_SECRET_KEY": "x" * 50, "COMMENT_RATE_LIMIT": "lots", "PATH": ""}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], capture_output=True, text=True, env=env,
        check=False,
    )

    assert result.returncode != 0
    assert "COMMENT_RATE_LIMIT must be" in result.stderr


def test_the_sixth_post_in_a_minute_is_refused_with_429(client, settings):
    settings.COMMENT_RATE_LIMIT = "5/60"
    article = make_article()
    url = reverse("comments:post", args=[article.slug])

    statuses = [client.post(url, data(n)).status_code for n in range(6)]

    assert statuses == [302] * 5 + [429]
    assert Comment.objects.count() == 5
    response = client.post(url, data(7))
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    html = response.content.decode()
    assert "Please wait a moment" in html
    wait = approximate_wait(int(response["Retry-After"]))
    assert f"You can post again in {wait}." in html


def test_a_long_wait_is_said_in_minutes(client, settings, monkeypatch):
    settings.COMMENT_RATE_LIMIT = "1/360"
    monkeypatch.setattr("newsroom.ratelimit.time.time", lambda: 360 * 5_000_000 + 4.5)
    article = make_article()
    url = reverse("comments:post", args=[article.slug])
    client.post(url, data(1))
    response = client.post(url, data(2))
    assert response.status_code == 429
    assert response["Retry-After"] == "356"
    html = response.content.decode()
    assert "You can post again in about 6 minutes." in html
    assert "second" not in html


def test_the_limit_is_per_email_across_addresses(client, settings):
    settings.COMMENT_RATE_LIMIT = "2/60"
    article = make_article()
    url = reverse("comments:post", args=[article.slug])

    statuses = [
        client.post(url, data(n), REMOTE_ADDR=f"198.51.100.{n}").status_code for n in range(3)
    ]

    assert statuses == [302, 302, 429]


def test_the_limit_is_per_address_across_emails(client, settings):
    settings.COMMENT_RATE_LIMIT = "2/60"
    article = make_article()
    url = reverse("comments:post", args=[article.slug])

    statuses = [client.post(url, data(n, email=f"r{n}@example.com")).status_code
                for n in range(3)]

    assert statuses == [302, 302, 429]


def test_off_disables_the_limit(client, settings):
    settings.COMMENT_RATE_LIMIT = "off"
    article = make_article()
    url = reverse("comments:post", args=[article.slug])

    assert {client.post(url, data(n)).status_code for n in range(8)} == {302}


def test_a_new_window_starts_a_new_count(settings, monkeypatch):
    settings.COMMENT_RATE_LIMIT = "1/60"
    now = [6000.0]
    monkeypatch.setattr("newsroom.ratelimit.time.time", lambda: now[0])

    assert posting_throttle(ip_address="192.0.2.1", email="a@example.com") is None
    assert posting_throttle(ip_address="192.0.2.1", email="a@example.com") == 60
    now[0] += 59
    assert posting_throttle(ip_address="192.0.2.1", email="a@example.com") == 1
    now[0] += 1
    assert posting_throttle(ip_address="192.0.2.1", email="a@example.com") is None


def test_invalid_forms_do_not_use_up_the_limit(client, settings):
    settings.COMMENT_RATE_LIMIT = "1/60"
    article = make_article()
    url = reverse("comments:post", args=[article.slug])

    for _ in range(3):
        assert client.post(url, {**data(0), "body": ""}).status_code == 400

    assert client.post(url, data(1)).status_code == 302
