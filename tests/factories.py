"""Small builders for test rows. Each call makes fresh, unique rows."""

import itertools

from articles.models import Article
from comments.models import Comment

_counter = itertools.count(1)


def make_article(**fields) -> Article:
    n = next(_counter)
    defaults = {
        "title": f"Article {n}",
        "slug": f"article-{n}",
        "body": [{"type": "paragraph", "text": f"Body of article {n}."}],
        "discussion_policy": "Be civil.",
    }
    defaults.update(fields)
    return Article.objects.create(**defaults)


def make_comment(article: Article, parent: Comment | None = None, **fields) -> Comment:
    n = next(_counter)
    defaults = {
        "author_name": f"Reader {n}",
        "author_email": f"reader{n}@example.com",
        "body": f"Comment {n}.",
    }
    defaults.update(fields)
    if parent is None and "thread_position" not in fields:
        defaults["thread_position"] = article.comments.filter(parent=None).count() + 1
    return Comment.objects.create(article=article, parent=parent, **defaults)


def make_reader(*, display_name: str = "", verified: bool = True, **fields):
    """A reader's account with its commenter record and its email address (verified or not),
    as a sign-up and its verification leave them."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    from comments.services import commenter_create

    n = next(_counter)
    email = fields.pop("email", f"account{n}@example.com")
    user = get_user_model().objects.create_user(
        f"account{n}", email=email, password="a long passphrase 1", **fields
    )
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=verified)
    commenter_create(user=user, display_name=display_name or f"Account {n}")
    return user
