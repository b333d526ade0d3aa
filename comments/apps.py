from django.apps import AppConfig


class CommentsConfig(AppConfig):
    name = "comments"
    verbose_name = "Comments"

    def ready(self):
        # The receivers that bump the banned phrases' version on every change.
        from comments import phrases  # noqa: F401
