import pytest
from django.core.management import call_command
from django.templatetags.static import static
from django.test import Client
from django.urls import reverse

from comments.models import Comment, Report
from tests.factories import make_article, make_comment

pytestmark = pytest.mark.django_db


def test_public_responses_carry_a_strict_content_security_policy_and_security_headers(client):
    response = client.get(reverse("healthz"))
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_the_admin_allows_its_inline_styles_and_still_no_inline_script(client):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in policy
    assert "script-src" not in policy
    assert "default-src 'self'" in policy


def assert_security_headers(headers):
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


def test_the_disallowed_host_400_carries_the_security_headers(client):
    response = client.get(reverse("healthz"), HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert_security_headers(response)
    assert "Bad request" in response.content.decode()


def test_static_files_carry_the_security_headers(settings):
    # runserver_nostatic leaves static files to WhiteNoise, which finds them in tests.
    settings.WHITENOISE_USE_FINDERS = True

    response = Client().get("/static/css/site.css")

    assert response.status_code == 200
    assert_security_headers(response)


def test_static_files_from_the_manifest_carry_the_security_headers(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", "--noinput", verbosity=0)

    response = Client().get(static("css/site.css"))

    assert response.status_code == 200
    assert static("css/site.css") != "/static/css/site.css"
    assert_security_headers(response)


@pytest.mark.parametrize("charset", ["latin-1", "utf-16"])
@pytest.mark.parametrize("url_name", ["comments:post", "comments:report"])
def test_a_form_declared_in_another_charset_is_a_clear_400(charset, url_name):
    comment = make_comment(make_article())
    args = [comment.article.slug] + ([comment.pk] if url_name == "comments:report" else [])
    browser = Client(enforce_csrf_checks=True, raise_request_exception=False)
    browser.get(reverse("comments:report", args=[comment.article.slug, comment.pk]))

    response = browser.post(
        reverse(url_name, args=args),
        "reason=spam&body=Hello",
        content_type=f"application/x-www-form-urlencoded; charset={charset}",
        HTTP_X_CSRFTOKEN=browser.cookies["csrftoken"].value,
    )

    assert response.status_code == 400
    assert "could not read this request" in response.content.decode()
    assert_security_headers(response)
    assert Report.objects.count() == 0 and Comment.objects.count() == 1
