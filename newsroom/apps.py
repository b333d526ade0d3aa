from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class NewsroomConfig(AppConfig):
    """The project's infrastructure: it registers the settings checks (newsroom/checks.py)."""

    name = "newsroom"

    def ready(self):
        from newsroom import checks  # noqa: F401  (registers the checks)


class NewsroomAdminConfig(AdminConfig):
    """Django's admin, served by the site's own admin site (newsroom/admin.py)."""

    default_site = "newsroom.admin.NewsroomAdminSite"
