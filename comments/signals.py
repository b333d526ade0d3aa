"""What comments announces to the apps that show discussions.

`comments` knows the commented model only by its string reference (`"articles.Article"`), so
it cannot refresh the pages that show a discussion itself: it sends `discussion_changed`, and
the app that caches those pages (articles/signals.py) listens.
"""

from django.dispatch import Signal

# Sent inside the writing transaction with `article_id`: what readers see of that article's
# discussion changed (a comment published, hidden, edited, moved or deleted). Receivers that
# touch a cache should wait for the commit (transaction.on_commit).
discussion_changed = Signal()


def discussion_changed_send(article_id: int) -> None:
    from comments.models import Comment

    discussion_changed.send(sender=Comment, article_id=article_id)
