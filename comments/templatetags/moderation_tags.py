from django import template

from comments.models import Comment

register = template.Library()


@register.simple_tag
def comments_waiting_count() -> int:
    """How many comments wait for a moderator: pending, or reported and not yet decided."""
    return Comment.objects.awaiting_review().count()
