from django.contrib.admin.apps import AdminConfig


class NewsroomAdminConfig(AdminConfig):
    """Django's admin, served by the site's own admin site (newsroom/admin.py)."""

    default_site = "newsroom.admin.NewsroomAdminSite"
