"""The routes of the root URLconf that belong to no app."""

from django.contrib.staticfiles import finders


def test_favicon_ico_leads_to_the_svg_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/favicon.svg"
    icon = finders.find("favicon.svg")
    assert icon is not None
    with open(icon, encoding="utf-8") as svg:
        assert svg.read().startswith('<svg xmlns="http://www.w3.org/2000/svg"')


def test_favicon_follows_the_static_files_name(client, settings):
    settings.STATIC_URL = "/assets/"
    assert client.get("/favicon.ico")["Location"] == "/assets/favicon.svg"
