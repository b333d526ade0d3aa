from django.apps import AppConfig


class CommentsConfig(AppConfig):
    name = "comments"
    verbose_name = "Comments"

    def ready(self):
        from comments.ratelimit import configured_rate_limit

        # A malformed COMMENT_RATE_LIMIT stops start-up instead of failing on the first post.
        configured_rate_limit()
