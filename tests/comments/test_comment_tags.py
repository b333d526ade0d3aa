"""The template filters of comments/templatetags/comment_tags.py."""

import pytest

from comments.templatetags.comment_tags import approximate_wait


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (1, "a few seconds"),
        (9, "a few seconds"),
        (10, "about 10 seconds"),
        (37, "about 40 seconds"),
        (45, "about 50 seconds"),
        (54, "about 50 seconds"),
        (55, "about 1 minute"),
        (60, "about 1 minute"),
        (89, "about 1 minute"),
        (90, "about 2 minutes"),
        (356, "about 6 minutes"),
        (3569, "about 59 minutes"),
        (3570, "about 1 hour"),
        (5399, "about 1 hour"),
        (5400, "about 2 hours"),
        (86400, "about 24 hours"),
    ],
)
def test_approximate_wait(seconds, said):
    assert approximate_wait(seconds) == said


@pytest.mark.django_db
def test_the_composer_is_the_articles_fresh_form_for_a_new_thread(client):
    from django.urls import reverse

    from tests.factories import make_article, make_comment

    article = make_article()
    comment = make_comment(article)
    heading = '<h3 class="comment-form-heading" id="comment-form-heading">Join the discussion</h3>'

    page = client.get(article.get_absolute_url()).content.decode()
    assert '<form class="comment-form comment-composer"' in page
    assert 'id="comment-form" aria-labelledby="comment-form-heading"' in page
    assert heading in page
    # The comment first, then who writes it; what folds is marked for the script.
    form = page[page.index('<form class="comment-form') :]
    assert form.index('name="body"') < form.index('name="name"') < form.index('name="email"')
    assert '<div class="field field-name comment-form-identity">' in form
    assert '<input type="text" name="name" autocomplete="name"' in form
    assert '<input type="email" name="email" autocomplete="email"' in form

    reply = client.get(reverse("comments:reply", args=[article.slug, comment.pk])).content.decode()
    assert "comment-composer" not in reply and heading not in reply
