"""Any saved or deleted article invalidates its cached pages, whoever changed it."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from articles.cache import article_page_changed
from articles.models import Article


@receiver(post_save, sender=Article, dispatch_uid="article_saved_page_changed")
@receiver(post_delete, sender=Article, dispatch_uid="article_deleted_page_changed")
def article_pages_invalidate(sender, instance: Article, **kwargs) -> None:
    article_page_changed(instance.pk)
