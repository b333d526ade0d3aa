import pytest


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    """Tests render templates without a collectstatic manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    from articles.cache import version_mirror
    from articles.page_cache import local_pages

    def clear():
        cache.clear()
        local_pages.clear()
        mirror = version_mirror()
        if mirror is not None:
            mirror.versions.clear()

    clear()
    yield
    clear()
