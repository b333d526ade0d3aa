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
import time
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.core import signing
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from articles.models import Article
from comments import selectors
from comments.decision_mail import published_mail_url
from comments.erasure import erase_token
from comments.guests import link_token
from comments.models import Comment
from comments.ownership import OWN_COOKIE, OWN_SALT
from comments.services import comment_delete_by_author, comments_feature, guest_comment_submit
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


def recommend_sign_in(page, base, article, comment):
    """A guest's "Recommend" without JavaScript: the invitation to sign in (403)."""
    response = page.goto(f"{base}{article.get_absolute_url()}comments/{comment.pk}/recommend/")
    assert response.status == 403
    return response


def _signed_in(page, base) -> None:
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(make_reader())
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    cookie = {"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base}
    page.context.add_cookies([cookie])


def recommend(page, base, article, comment):
    """The recommend page of a signed-in reader (the last pages: the tab stays signed in)."""
    _signed_in(page, base)
    return page.goto(f"{base}{article.get_absolute_url()}comments/{comment.pk}/recommend/")


def recommended(page, base, article, comment):
    """The article after the reader recommended a comment in place: a pressed button."""
    response = page.goto(base + article.get_absolute_url())
    button = page.locator(f"#comment-{comment.pk} .recommend-button")
    if button.get_attribute("aria-pressed") != "true":
        button.click()
    page.locator(f'#comment-{comment.pk} .recommend-button[aria-pressed="true"]').wait_for()
    return response
def report_form(page, base, article, comment):
    """The report form, with its optional "Email me when this is decided" address."""
    return page.goto(f"{base}/articles/{article.slug}/comments/{comment.pk}/report/")


def _published_mail_link(base, article) -> str:
    """The link in the mail about a published comment, for a new reader."""
    reader = make_reader()
    path = published_mail_url(reader.commenter).partition("/comments/")[2]
    return f"{base}/comments/{path}"


def published_mail_stop(page, base, article, comment):
    return page.goto(_published_mail_link(base, article))


def published_mail_stopped(page, base, article, comment):
    page.goto(_published_mail_link(base, article))
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Stop this mail").click()
    return navigation.value


def published_mail_link_broken(page, base, article, comment):
    return page.goto(f"{base}/comments/published-mail/not-a-token/")


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


def account_settings(page, base, article, comment):
    """The account page with its "Your data" section, signed in for this visit only."""
    client = Client()
    client.force_login(make_reader(display_name="Anahit"))
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base}]
    )
    response = page.goto(base + reverse("comments:settings"))
    page.context.clear_cookies(name=settings.SESSION_COOKIE_NAME)
    return response


def data_request(page, base, article, comment):
    return page.goto(base + reverse("comments:data_request"))


def data_request_error(page, base, article, comment):
    page.goto(base + reverse("comments:data_request"))
    page.get_by_role("textbox", name="Email address").fill("anahit@example")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Send me the link").click()
    assert navigation.value.status == 400
    return navigation.value


def data_request_sent(page, base, article, comment):
    page.goto(base + reverse("comments:data_request"))
    page.get_by_role("textbox", name="Email address").fill("anahit@example.com")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Send me the link").click()
    assert "If we hold anything for this address" in navigation.value.text()
    return navigation.value


def data_link_broken(page, base, article, comment):
    return page.goto(base + reverse("comments:data_download", args=["not-a-link"]))
def _own_comment(page, base, article, comment) -> Comment:
    """A new reply to `comment`, which this browser owns (its signed comments_own cookie)."""
    own = make_comment(article, parent=comment, created=timezone.now(), body="Mine to change.")
    value = signing.Signer(salt=OWN_SALT).sign(f"{own.pk}-{int(time.time()) + 900}")
    page.context.add_cookies([{"name": OWN_COOKIE, "value": value, "url": base}])
    return own


def comment_edit(page, base, article, comment):
    own = _own_comment(page, base, article, comment)
    return page.goto(base + reverse("comments:edit", args=[article.slug, own.pk]))


def comment_delete(page, base, article, comment):
    own = _own_comment(page, base, article, comment)
    return page.goto(base + reverse("comments:delete", args=[article.slug, own.pk]))


def comment_not_yours(page, base, article, comment):
    return page.goto(base + reverse("comments:edit", args=[article.slug, comment.pk]))


def deleted_placeholder(page, base, article, comment):
    """The discussion with a comment its author deleted, its reply kept under it."""
    own = _own_comment(page, base, article, comment)
    make_comment(article, parent=own, body="A reply that stays.")
    comment_delete_by_author(comment_id=own.pk)
    return page.goto(f"{base}{article.get_absolute_url()}?view=deleted")


def erase_request(page, base, article, comment):
    return page.goto(base + reverse("comments:guest_erase"))


def erase_confirm(page, base, article, comment):
    make_comment(article, parent=comment, author_email="grace@example.com")
    token = erase_token("grace@example.com")
    return page.goto(base + reverse("comments:guest_erase_confirm", args=[token]))


def erase_link_problem(page, base, article, comment):
    return page.goto(base + reverse("comments:guest_erase_confirm", args=["not-a-link"]))
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
    "account settings": account_settings,
    "data request": data_request,
    "data request error": data_request_error,
    "data request sent": data_request_sent,
    "data link broken": data_link_broken,
    "comment edit": comment_edit,
    "comment delete": comment_delete,
    "comment not yours": comment_not_yours,
    "deleted placeholder": deleted_placeholder,
    "erase request": erase_request,
    "erase confirm": erase_confirm,
    "erase link problem": erase_link_problem,
    "recommend sign-in": recommend_sign_in,
    "recommend": recommend,
    "recommended": recommended,
    "report": report_form,
    "published mail stop": published_mail_stop,
    "published mail stopped": published_mail_stopped,
    "published mail link broken": published_mail_link_broken,
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
    the queue, the removal and block dialogs, a comment's page with its decision history, and
    the review screen."""
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
    # The review screen, and with its block form open.
    page.goto(f"{base}/admin/comments/commentqueue/review/?comment={comment.pk}")
    yield "review", page
    page.keyboard.press("b")
    yield "review-block", page


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


def test_the_review_screen_passes_the_checkers_on_a_phone_and_in_dark_mode(
    browser, live_server, seeded, tmp_path
):
    """The review screen has markup of its own: the Nu checker finds no error in it, and axe no
    serious or critical violation at 375 pixels or in dark mode, with its block form open."""
    from django.contrib.auth.models import User

    from comments.models import HoldReason, Report
    from tests.helpers import moderators_group

    required(AXE_JS.exists(), f"{AXE_JS} missing: run `npm ci` (make test does)")
    _, comment = seeded
    moderator = User.objects.create_user("checker", password="a long passphrase 1", is_staff=True)
    moderator.groups.add(moderators_group())
    HoldReason.objects.create(comment=comment, code="phrase", detail="rubbish")
    Report.objects.create(comment=comment, reason="abuse", reporter="ip:203.0.113.1")
    review = f"{live_server.url}/admin/comments/commentqueue/review/?comment={comment.pk}"
    found, pages = [], {}
    for screen in ("phone", "dark"):
        context = browser.new_context(**SCREENS[screen], bypass_csp=True)
        page = context.new_page()
        page.goto(f"{live_server.url}/admin/login/")
        page.get_by_label("Username").fill("checker")
        page.get_by_label("Password").fill("a long passphrase 1")
        page.get_by_role("button", name="Log in").click()
        pages[f"review-{screen}"] = page.goto(review).text()
        page.keyboard.press("b")
        page.add_script_tag(path=str(AXE_JS))
        result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
        for violation in result["violations"]:
            if violation["impact"] in ("serious", "critical"):
                targets = [" ".join(node["target"]) for node in violation["nodes"]][:5]
                found.append(f"{screen}: {violation['id']} ({violation['impact']}): {targets}")
        context.close()
    assert not found, "\n".join(found)
    java = shutil.which("java")
    required(VNU_JAR.exists() and java is not None, "vnu.jar or java missing")
    errors, _ = nu_html_check(java, pages, tmp_path)
    assert not errors, "\n".join(errors)
