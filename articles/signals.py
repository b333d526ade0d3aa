"""Cached article pages follow every change that readers would see on them.

Any saved or deleted article invalidates its pages, whoever changed it; so does any change to
its discussion, which comments announces with `discussion_changed` (comments knows nothing of
articles or of their pages).
"""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from articles.cache import article_page_changed
from articles.models import Article
from comments.signals import discussion_changed


@receiver(post_save, sender=Article, dispatch_uid="article_saved_page_changed")
@receiver(post_delete, sender=Article, dispatch_uid="article_deleted_page_changed")
def article_pages_invalidate(sender, instance: Article, **kwargs) -> None:
    article_page_changed(instance.pk)


@receiver(discussion_changed, dispatch_uid="discussion_changed_page_changed")
def discussion_pages_invalidate(sender, article_id: int, **kwargs) -> None:
    article_page_changed(article_id)
