"""The reader pages pass the standard checkers: the Nu HTML checker (npm's vnu-jar, on a Java
runtime) reports no error, and axe-core (npm's axe-core, run in Chromium) finds no
accessibility violation, on a desktop screen, a phone and in dark mode.

`make test` installs the npm packages (package.json). Each page of PAGES is reached as a reader
reaches it; a new page is one more function there.
"""

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from articles.models import Article
from comments import selectors
from comments.guests import link_token
from comments.models import Comment
from comments.services import comments_feature, guest_comment_submit
from comments.subscriptions import Unsubscribe, reply_subscription_create, unsubscribe_token
from tests.factories import make_comment, make_reader

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "fixtures" / "seeds"
VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True},
    "dark": {"viewport": {"width": 1280, "height": 900}, "color_scheme": "dark"},
}


def required(present: bool, message: str) -> None:
    """Skip without the tool, except in CI (NEWSROOM_E2E_REQUIRED=1), where it is a failure."""
    if present:
        return
    if os.environ.get("NEWSROOM_E2E_REQUIRED") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def seeded(settings):
    # Comments may be posted once an hour, so the 429 page is one post away.
    settings.COMMENT_RATE_LIMIT = "1/3600"
    call_command("import_articles", str(SEEDS), stdout=StringIO())
    reply = Comment.objects.filter(level=1).select_related("parent", "article").first()
    return reply.article, reply.parent


def home(page, base, article, comment):
    return page.goto(base)


def article_page(page, base, article, comment):
    return page.goto(base + article.get_absolute_url())


def reply_page(page, base, article, comment):
    return page.goto(f"{base}{article.get_absolute_url()}comments/{comment.pk}/reply/")


def form_error(page, base, article, comment):
    page.goto(base + article.get_absolute_url())
    form = page.locator("#comments form.comment-form").first
    form.get_by_role("textbox", name="Comment").fill("   ")
    form.get_by_role("textbox", name="Name").fill("Anahit")
    form.get_by_role("textbox", name="Email").fill("anahit@example.com")
    with page.expect_navigation() as navigation:
        form.get_by_role("button", name="Post comment").click()
    assert navigation.value.status == 400
    return navigation.value


def too_many(page, base, article, comment):
    for attempt in range(2):
        page.goto(base + article.get_absolute_url())
        form = page.locator("#comments form.comment-form").first
        form.get_by_role("textbox", name="Comment").fill(f"Attempt {attempt} at a word.")
        form.get_by_role("textbox", name="Name").fill("Anahit")
        form.get_by_role("textbox", name="Email").fill("anahit@example.com")
        with page.expect_navigation() as navigation:
            form.get_by_role("button", name="Post comment").click()
        if navigation.value.status == 429:
            return navigation.value
    pytest.fail("a second post within the hour was not refused with 429")


def thread_page(page, base, article, comment):
    return page.goto(f"{base}{article.get_absolute_url()}threads/{comment.pk}/")


def paged_discussion(page, base, article, comment):
    """The discussion two threads a page, each cut after its first reply: the page number and
    "Show N more replies" on the page of `comment`'s thread (which has replies). The extra
    parameter keeps the page cache out: the page is built under these settings."""
    with (
        override_settings(COMMENTS_REPLIES_SHOWN=1),
        mock.patch.object(selectors, "THREADS_PER_PAGE", 2),
    ):
        number = selectors.thread_page_number(comment, "oldest")
        response = page.goto(
            f"{base}{article.get_absolute_url()}?sort=oldest&page={number}&view=checked"
        )
        html = response.text()
    assert "more-replies-link" in html and f"Page {number} of" in html
    return response


def guest_confirm(page, base, article, comment):
    submitted = guest_comment_submit(
        article=article,
        parent_id=None,
        author_name="Anahit",
        author_email="anahit@example.com",
        body="A word to confirm.",
        ip_address="192.0.2.1",
        user_agent="",
    )
    row = submitted.unconfirmed
    token = link_token(pk=row.pk, nonce=row.nonce)
    return page.goto(base + reverse("comments:confirm", args=[token]))


def guest_link_problem(page, base, article, comment):
    return page.goto(base + reverse("comments:confirm", args=["not-a-link"]))


def sign_in_invitation(page, base, article, comment):
    with override_settings(COMMENTS_GUESTS="closed"):
        response = page.goto(f"{base}{article.get_absolute_url()}comments/{comment.pk}/reply/")
    assert "Only readers with an account can comment." in response.text()
    return response


def guests_closed(page, base, article, comment):
    page.goto(f"{base}{article.get_absolute_url()}comments/{comment.pk}/reply/")
    form = page.locator("form.comment-form").first
    form.get_by_role("textbox", name="Name").fill("Anahit")
    form.get_by_role("textbox", name="Email").fill("anahit@example.com")
    form.get_by_role("textbox", name="Comment").fill("Only for accounts.")
    with override_settings(COMMENTS_GUESTS="closed"), page.expect_navigation() as navigation:
        form.get_by_role("button", name="Post reply").click()
    assert navigation.value.status == 403
    assert "Sign in to comment" in navigation.value.text()
    return navigation.value


def _unsubscribe_link(base, comment) -> str:
    """The unsubscribe page a reply mail links to, for a new reader subscribed to `comment`."""
    reader = make_reader()
    own = make_comment(comment.article, parent=comment, commenter=reader.commenter)
    reply_subscription_create(comment=own, commenter=reader.commenter)
    scope = Unsubscribe(commenter_id=reader.commenter.pk, thread_id=own.get_root().pk)
    return f"{base}/comments/unsubscribe/{unsubscribe_token(scope)}/"


def unsubscribe(page, base, article, comment):
    return page.goto(_unsubscribe_link(base, comment))


def unsubscribed(page, base, article, comment):
    page.goto(_unsubscribe_link(base, comment))
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Stop mail about this thread").click()
    return navigation.value


def unsubscribe_link_broken(page, base, article, comment):
    return page.goto(f"{base}/comments/unsubscribe/not-a-token/")


# The account pages join this list once they exist.
def inline_reply(page, base, article, comment):
    """The article with the composer opened and an inline reply form under a comment."""
    response = page.goto(base + article.get_absolute_url())
    page.locator("#comments form.comment-composer textarea").focus()
    page.locator(f"#comment-{comment.pk} .reply-link").click()
    page.locator(".comment-form-inline").wait_for()
    return response


def sign_up(page, base, article, comment):
    return page.goto(base + "/accounts/signup/")


def sign_in(page, base, article, comment):
    return page.goto(base + "/accounts/login/")


def password_reset(page, base, article, comment):
    return page.goto(base + "/accounts/password/reset/")


def editors_picks(page, base, article, comment):
    """The article in the "picks" order, with its block of editors' picks above the threads."""
    comments_feature(
        comments=Comment.objects.filter(pk=comment.pk),
        moderator=None,
        note="A reader with first-hand knowledge",
    )
    response = page.goto(f"{base}{article.get_absolute_url()}?sort=picks")
    assert "editors-picks" in response.text()
    return response


def hidden_comment(page, base, article, comment):
    """A held reply as a signed-in moderator sees it at its permalink, in its thread (last:
    the tab stays signed in)."""
    from django.contrib.auth.models import User

    from tests.helpers import moderators_group

    held = make_comment(article, parent=comment, status="pending", body="Held for a look.")
    moderator = User.objects.create_user("watcher", password="a long passphrase 2", is_staff=True)
    moderator.groups.add(moderators_group())
    page.goto(f"{base}/admin/login/")
    page.get_by_label("Username").fill("watcher")
    page.get_by_label("Password").fill("a long passphrase 2")
    page.get_by_role("button", name="Log in").click()
    response = page.goto(base + held.get_absolute_url())
    assert "Only moderators see this page" in response.text()
    return response


PAGES: dict[str, Callable] = {
    "home": home,
    "article": article_page,
    "inline reply": inline_reply,
    "reply": reply_page,
    "form error": form_error,
    "guest confirm": guest_confirm,
    "guest link problem": guest_link_problem,
    "sign-in invitation": sign_in_invitation,
    "guests closed": guests_closed,
    "sign-up": sign_up,
    "sign-in": sign_in,
    "password reset": password_reset,
    "429": too_many,
    "thread": thread_page,
    "paged discussion": paged_discussion,
    "unsubscribe": unsubscribe,
    "unsubscribed": unsubscribed,
    "unsubscribe link broken": unsubscribe_link_broken,
    "picks": editors_picks,
    "hidden comment": hidden_comment,
}


def visit_all(context, base: str, article: Article, comment: Comment):
    """Each page of PAGES as its browser tab left it, with the answer's own HTML."""
    page = context.new_page()
    for name, visit in PAGES.items():
        response = visit(page, base, article, comment)
        assert response is not None and response.ok or response.status in (400, 403, 429), name
        yield name, page, response.text()
    page.close()


def test_the_nu_html_checker_finds_no_error(browser, live_server, seeded, tmp_path):
    required(VNU_JAR.exists(), f"{VNU_JAR} missing: run `npm ci` (make test does)")
    java = shutil.which("java")
    required(java is not None, "java missing: install a Java runtime (default-jre-headless)")
    context = browser.new_context(**SCREENS["desktop"])
    pages = {name: html for name, _, html in visit_all(context, live_server.url, *seeded)}
    context.close()
    errors, warnings = nu_html_check(java, pages, tmp_path)
    if warnings:
        print("Nu HTML checker warnings:", *warnings, sep="\n  ")
    assert not errors, "\n".join(errors)


def test_the_nu_html_checker_sees_an_error(tmp_path):
    java = shutil.which("java")
    required(VNU_JAR.exists() and java is not None, "vnu.jar or java missing")
    # The error the pages once had: a `datetime` with microseconds.
    page = '<!doctype html><html lang="en"><title>t</title><time datetime="{}">x</time></html>'
    errors, _ = nu_html_check(
        java, {"bad time": page.format("2026-12-01T20:17:00.123456+00:00")}, tmp_path
    )
    assert len(errors) == 1 and errors[0].startswith("bad time:1: Bad value")


def nu_html_check(java: str, pages: dict[str, str], folder: Path) -> tuple[list, list]:
    """The checker's errors and warnings on `pages` (name to HTML), each as "name:line: text"."""
    files = {}
    for name, html in pages.items():
        files[name] = folder / f"{name.replace(' ', '-')}.html"
        files[name].write_text(html, encoding="utf-8")
    result = subprocess.run(
        [java, "-jar", str(VNU_JAR), "--format", "json", "--stdout", *map(str, files.values())],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    names = {path.resolve().as_uri(): name for name, path in files.items()}

    def line(message):
        url = message.get("url", "").replace("file:/", "file:///", 1)
        return f"{names.get(url, url)}:{message.get('lastLine')}: {message['message']}"

    messages = json.loads(result.stdout)["messages"]
    errors = [line(m) for m in messages if m["type"] != "info"]
    assert bool(errors) == (result.returncode != 0), result.stderr
    return errors, [line(m) for m in messages if m["type"] == "info"]


@pytest.mark.parametrize("screen", list(SCREENS))
def test_axe_finds_no_violation(browser, live_server, seeded, screen):
    required(AXE_JS.exists(), f"{AXE_JS} missing: run `npm ci` (make test does)")
    # The site's CSP admits no inline script, and axe is injected as one.
    context = browser.new_context(**SCREENS[screen], bypass_csp=True, reduced_motion="reduce")
    found = []
    for name, page, _ in visit_all(context, live_server.url, *seeded):
        page.add_script_tag(path=str(AXE_JS))
        result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
        for violation in result["violations"]:
            targets = [" ".join(node["target"]) for node in violation["nodes"]][:5]
            found.append(f"{name}: {violation['id']} ({violation['impact']}): {targets}")
    context.close()
    assert not found, "\n".join(found)


def test_the_schema_org_data_block_passes_the_content_security_policy(
    browser, live_server, seeded
):
    article, _ = seeded
    context = browser.new_context()
    page = context.new_page()
    page.add_init_script(
        "window.cspViolations = [];"
        "document.addEventListener('securitypolicyviolation',"
        " event => window.cspViolations.push(event.violatedDirective));"
    )
    refused = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    page.goto(live_server.url + article.get_absolute_url())
    record = json.loads(page.locator('script[type="application/ld+json"]').text_content())
    assert record["@type"] == "NewsArticle" and record["comment"]
    assert page.evaluate("window.cspViolations") == []
    assert refused == []
    # The listener hears a violation when there is one: an inline script the policy refuses.
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = '1';"
        " document.body.append(s); }"
    )
    page.wait_for_function("window.cspViolations.length > 0")
    assert page.evaluate("window.cspViolations")[0].startswith("script-src")
    context.close()


def moderation_pages(page, base: str, comment: Comment):
    """The moderators' pages of the queue, as a member of the Moderators group reaches them:
    the queue, the removal and block dialogs, and a comment's page with its decision history."""
    from django.contrib.auth.models import User

    from comments.models import HoldReason, Report
    from tests.helpers import moderators_group

    moderator = User.objects.create_user("checker", password="a long passphrase 1", is_staff=True)
    moderator.groups.add(moderators_group())
    HoldReason.objects.create(comment=comment, code="phrase", detail="rubbish")
    Report.objects.create(comment=comment, reason="abuse", reporter="ip:203.0.113.1")
    page.goto(f"{base}/admin/login/")
    page.get_by_label("Username").fill("checker")
    page.get_by_label("Password").fill("a long passphrase 1")
    page.get_by_role("button", name="Log in").click()
    queue = f"{base}/admin/comments/commentqueue/"
    page.goto(queue)
    yield "queue", page
    for action in ("remove_comments", "block_commenters"):
        page.goto(queue)
        page.locator(f'input[name="_selected_action"][value="{comment.pk}"]').check()
        page.locator('select[name="action"]').select_option(action)
        page.get_by_role("button", name="Run").first.click()
        yield action, page
    page.goto(f"{base}/admin/comments/comment/{comment.pk}/change/")
    yield "comment", page


def test_axe_finds_no_serious_violation_on_the_moderation_pages(browser, live_server, seeded):
    required(AXE_JS.exists(), f"{AXE_JS} missing: run `npm ci` (make test does)")
    _, comment = seeded
    context = browser.new_context(**SCREENS["desktop"], bypass_csp=True)
    found = []
    for name, page in moderation_pages(context.new_page(), live_server.url, comment):
        page.add_script_tag(path=str(AXE_JS))
        result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
        for violation in result["violations"]:
            if violation["impact"] in ("serious", "critical"):
                targets = [" ".join(node["target"]) for node in violation["nodes"]][:5]
                found.append(f"{name}: {violation['id']} ({violation['impact']}): {targets}")
    context.close()
    assert not found, "\n".join(found)
