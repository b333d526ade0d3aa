import pytest
from django.urls import reverse

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
