"""`make screenshots`: the README's pictures of the site, taken from the demo articles.

Not collected by `make test` (its name does not start with test_); run by path.
"""

from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db.models import Count

from articles.models import Article
from comments.models import Comment, HoldReason, Report

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "screenshots"


def discussion(page):
    """The discussion section, scrolled into view once the page has settled."""
    section = page.locator("#comments")
    section.evaluate("element => element.scrollIntoView()")
    page.wait_for_timeout(300)
    return section


def test_take_the_readme_screenshots(browser, live_server):
    call_command("import_articles", str(ROOT / "fixtures" / "seeds"), stdout=StringIO())
    # Give the moderation queue something to show: held comments with their reasons, and one
    # reported by three readers.
    article = Article.objects.get(source_key="000_d0250cf769dc7508")
    comments = list(Comment.objects.filter(article=article).order_by("tree_id", "lft")[:4])
    Comment.objects.filter(pk__in=[c.pk for c in comments[:3]]).update(status="pending")
    for comment, code, detail in [
        (comments[0], "first_comment", ""),
        (comments[1], "phrase", "warfare"),
        (comments[2], "links", "3"),
        (comments[2], "article_premoderated", ""),
    ]:
        HoldReason.objects.create(comment=comment, code=code, detail=detail)
    for n, reason in enumerate(["abuse", "abuse", "off_topic"]):
        Report.objects.create(comment=comments[3], reason=reason, reporter=f"ip:203.0.113.{n}")
    User.objects.create_superuser("editor", "editor@example.com", "screenshots only")
    OUT.mkdir(parents=True, exist_ok=True)

    context = browser.new_context(viewport={"width": 1280, "height": 900}, reduced_motion="reduce")
    page = context.new_page()
    page.goto(live_server.url)
    page.screenshot(path=str(OUT / "home.png"))

    page.goto(live_server.url + article.get_absolute_url())
    page.screenshot(path=str(OUT / "article.png"))
    page.set_viewport_size({"width": 1280, "height": 1300})
    discussion(page)
    page.screenshot(path=str(OUT / "discussion.png"))

    phone = browser.new_context(
        viewport={"width": 375, "height": 800}, device_scale_factor=2, reduced_motion="reduce"
    )
    small = phone.new_page()
    small.goto(live_server.url + article.get_absolute_url())
    discussion(small)
    small.screenshot(path=str(OUT / "discussion-phone.png"))
    # An inline reply open under a comment's actions.
    first = Comment.objects.filter(article=article, level=0, status="published").first()
    small.locator(f"#comment-{first.pk} .reply-link").click()
    small.locator(".comment-form-inline").evaluate(
        "form => form.closest('.comment').scrollIntoView()"
    )
    small.wait_for_timeout(300)
    small.screenshot(path=str(OUT / "reply-phone.png"))
    phone.close()

    dark = browser.new_context(
        viewport={"width": 1280, "height": 1300}, color_scheme="dark", reduced_motion="reduce"
    )
    night = dark.new_page()
    night.goto(live_server.url + article.get_absolute_url())
    discussion(night)
    night.screenshot(path=str(OUT / "discussion-dark.png"))
    dark.close()

    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill("editor")
    page.get_by_label("Password").fill("screenshots only")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/admin/comments/commentqueue/")
    page.screenshot(path=str(OUT / "moderation-queue.png"))
    # The review screen on a laptop, at a held reply, with the thread around it.
    reply = (
        Comment.objects.filter(article=article, level__gte=1)
        .annotate(siblings=Count("parent__children"))
        .order_by("-siblings", "tree_id", "lft")
        .first()
    )
    Comment.objects.filter(pk=reply.pk).update(status="pending")
    HoldReason.objects.create(comment=reply, code="links", detail="3")
    Report.objects.create(comment=reply, reason="off_topic", reporter="ip:203.0.113.9",
                          detail="Nothing to do with the article")
    page.set_viewport_size({"width": 1366, "height": 1100})
    page.goto(f"{live_server.url}/admin/comments/commentqueue/review/?comment={reply.pk}")
    page.screenshot(path=str(OUT / "review-screen.png"))
    context.close()

    names = ("home", "article", "discussion", "discussion-phone", "reply-phone", "discussion-dark",
             "moderation-queue", "review-screen")
    for name in names:
        assert (OUT / f"{name}.png").stat().st_size > 10_000


def test_take_the_picks_and_hidden_comment_screenshots(browser, live_server):
    """The editors' picks above the discussion, and a held reply as a moderator sees it."""
    from comments.services import comments_feature

    call_command("import_articles", str(ROOT / "fixtures" / "seeds"), stdout=StringIO())
    article = Article.objects.get(source_key="000_d0250cf769dc7508")
    comments = list(Comment.objects.filter(article=article).order_by("tree_id", "lft")[:4])
    for comment, note in [(comments[1], "A reader who lives in the region"), (comments[3], "")]:
        comments_feature(comments=Comment.objects.filter(pk=comment.pk), moderator=None, note=note)
    # A reply, so that the moderator's page shows the comment it answers above it.
    held = Comment.objects.filter(article=article, level=1, status="published").last()
    Comment.objects.filter(pk=held.pk).update(status="pending")
    User.objects.create_superuser("editor", "editor@example.com", "screenshots only")
    OUT.mkdir(parents=True, exist_ok=True)

    for name, width, height in [("picks", 1280, 1100), ("picks-phone", 375, 900)]:
        context = browser.new_context(
            viewport={"width": width, "height": height}, reduced_motion="reduce"
        )
        page = context.new_page()
        page.goto(live_server.url + article.get_absolute_url())
        page.locator(".editors-picks").evaluate("element => element.scrollIntoView()")
        page.wait_for_timeout(300)
        page.screenshot(path=str(OUT / f"{name}.png"))
        context.close()

    for name, width, height in [("hidden-comment", 1280, 900), ("hidden-comment-phone", 375, 900)]:
        context = browser.new_context(
            viewport={"width": width, "height": height}, reduced_motion="reduce"
        )
        page = context.new_page()
        page.goto(f"{live_server.url}/admin/login/")
        page.get_by_label("Username").fill("editor")
        page.get_by_label("Password").fill("screenshots only")
        page.get_by_role("button", name="Log in").click()
        page.goto(live_server.url + held.get_absolute_url())
        page.locator(".comment--hidden").evaluate(
            "element => element.scrollIntoView({block: 'center'})"
        )
        page.wait_for_timeout(300)
        page.screenshot(path=str(OUT / f"{name}.png"))
        context.close()
    for name in ("picks", "picks-phone", "hidden-comment", "hidden-comment-phone"):
        assert (OUT / f"{name}.png").stat().st_size > 10_000
