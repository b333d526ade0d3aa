"""The main journeys of readers, guests and moderators, in Chromium against the live server."""

import re
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from playwright.sync_api import expect

from articles.models import Article
from comments.models import Comment, Report
from tests.helpers import moderators_group
from tests.processes import SECRET, db_worker, django_process, gunicorn_server

pytestmark = pytest.mark.django_db(transaction=True)

SEEDS = Path(__file__).resolve().parents[2] / "fixtures" / "seeds"


@pytest.fixture
def seeded(settings):
    settings.COMMENT_RATE_LIMIT = "off"
    call_command("import_articles", str(SEEDS), stdout=StringIO())


def thread_with_replies() -> tuple[Comment, Comment]:
    """A top-level comment of the seeds and its first reply."""
    reply = Comment.objects.filter(level=1).select_related("parent", "article").first()
    return reply.parent, reply


def test_a_reader_browses_to_a_discussion_folds_a_thread_and_follows_a_permalink(
    page, live_server, seeded
):
    root, reply = thread_with_replies()
    article = root.article
    page.goto(live_server.url)
    page.get_by_role("link", name=article.title).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(article.title)

    item = page.locator(f"li:has(> #comment-{root.pk})")
    replies = item.locator("> details.replies")
    nested = replies.locator(f"#comment-{reply.pk}")
    expect(nested).to_be_visible()
    expect(nested.locator(".comment-author")).to_have_text(reply.author_name)

    summary = replies.locator("> summary")
    count = root.get_descendant_count()
    expect(summary).to_contain_text(f"{count} repl")
    summary.click()
    expect(nested).to_be_hidden()
    summary.click()
    expect(nested).to_be_visible()

    share = nested.get_by_role("link", name=f"Share {reply.author_name}’s comment")
    expect(share).to_have_attribute("href", reply.get_absolute_url())
    page.goto(f"{live_server.url}{reply.get_absolute_url()}")
    expect(page).to_have_url(re.compile(rf"{article.get_absolute_url()}(\?page=\d+)?#comment-{reply.pk}$"))
    expect(page.locator(f"#comment-{reply.pk}")).to_be_in_viewport()


def test_a_guest_comments_then_replies_and_an_empty_body_keeps_what_was_typed(
    page, live_server, seeded
):
    article = Article.objects.get(source_key="003_3276b30b763cc5a2")
    page.goto(live_server.url + article.get_absolute_url())

    form = page.locator("#comments form.comment-form").first
    form.get_by_role("textbox", name="Comment").fill("   ")
    form.get_by_role("textbox", name="Name").fill("Anahit")
    form.get_by_role("textbox", name="Email").fill("anahit@example.com")
    form.get_by_role("button", name="Post comment").click()
    error_form = page.locator("form.comment-form")
    expect(error_form.locator(".errorlist")).to_contain_text("Write something")
    expect(error_form.get_by_role("textbox", name="Name")).to_have_value("Anahit")
    expect(error_form.get_by_role("textbox", name="Email")).to_have_value("anahit@example.com")
    assert not Comment.objects.filter(article=article).exists()

    error_form.get_by_role("textbox", name="Comment").fill("The first word on this story.")
    error_form.get_by_role("button", name="Post comment").click()
    first = Comment.objects.get(article=article, body="The first word on this story.")
    expect(page).to_have_url(re.compile(rf"#comment-{first.pk}$"))
    expect(page.locator(f"#comment-{first.pk} .comment-body")).to_have_text(first.body)

    page.locator(f"#comment-{first.pk} .reply-link").click()
    inline = page.locator(f"#comment-{first.pk} form.comment-form-inline, "
                          f"li:has(> #comment-{first.pk}) form.comment-form-inline").first
    expect(inline).to_be_visible()
    inline.get_by_role("textbox", name="Comment").fill("A reply, nested under it.")
    inline.get_by_role("textbox", name="Name").fill("Vardan")
    inline.get_by_role("textbox", name="Email").fill("vardan@example.com")
    inline.get_by_role("button", name="Post reply").click()

    reply = Comment.objects.get(article=article, body="A reply, nested under it.")
    assert reply.parent_id == first.pk
    nested = page.locator(f"li:has(> #comment-{first.pk}) details.replies #comment-{reply.pk}")
    expect(nested).to_be_visible()
    expect(nested.locator(".comment-author")).to_have_text("Vardan")


def test_a_reader_reports_a_comment(page, live_server, seeded):
    root, _ = thread_with_replies()
    page.goto(live_server.url + root.article.get_absolute_url())
    page.locator(f"#comment-{root.pk} .report-link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Report a comment")
    page.get_by_label("Abuse or personal attack").check()
    page.get_by_role("button", name="Send report").click()
    expect(page).to_have_url(re.compile(rf"#comment-{root.pk}$"))
    expect(page.locator("body")).to_contain_text("thank you")
    report = Report.objects.get(comment=root)
    assert report.reason == Report.Reason.ABUSE


def test_a_moderator_removes_a_comment_and_readers_see_its_place_kept(
    page, browser, live_server, seeded
):
    root, reply = thread_with_replies()
    moderator = User.objects.create_user("moderator", password="a long moderator passphrase",
                                         is_staff=True)
    moderator.groups.add(moderators_group())

    page.goto(f"{live_server.url}/admin/")
    page.get_by_label("Username").fill("moderator")
    page.get_by_label("Password").fill("a long moderator passphrase")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/admin/comments/comment/?article__id__exact={root.article_id}")
    page.locator(f'input[name="_selected_action"][value="{root.pk}"]').check()
    page.locator('select[name="action"]').select_option("remove_comments")
    page.get_by_role("button", name="Run").or_(page.get_by_role("button", name="Go")).first.click()
    # The removal asks why, on a page of its own.
    page.get_by_label("Abusive or a personal attack").check()
    page.get_by_role("button", name="Remove").click()
    expect(page.locator("ul.messagelist")).to_contain_text("1 comment")
    root.refresh_from_db()
    assert root.status == Comment.Status.REMOVED

    reader = browser.new_context().new_page()
    reader.goto(live_server.url + root.article.get_absolute_url())
    placeholder = reader.locator(f"#comment-{root.pk}")
    expect(placeholder).to_have_text("Removed by a moderator: personal attack")
    expect(placeholder).not_to_contain_text(root.author_name)
    expect(reader.locator(f"li:has(> #comment-{root.pk}) #comment-{reply.pk}")).to_be_visible()
    reader.context.close()


def test_the_article_page_fits_a_phone_and_the_keyboard_reaches_every_control(
    page, live_server, seeded
):
    article = Article.objects.get(source_key="002_d5e8f4d8fcec2834")
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(live_server.url + article.get_absolute_url())
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"horizontal scrolling: {widths}"

    wanted = page.evaluate(
        """Array.from(document.querySelectorAll(
             '.reply-link, #comments form.comment-form input:not([type=hidden]),'
             + ' #comments form.comment-form textarea, #comments form.comment-form button'))
           .filter(e => e.tabIndex >= 0)
           .filter(e => !e.closest('[hidden]'))
           .map(e => e.outerHTML)"""
    )
    assert len(wanted) > 10
    reached = set()
    for _ in range(400):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("document.activeElement.outerHTML"))
        if reached >= set(wanted):
            break
    missing = set(wanted) - reached
    assert not missing, f"not reachable by keyboard: {sorted(missing)[:3]}"


def test_a_newcomer_signs_up_verifies_and_comments_under_their_name(
    page, live_server, seeded, mailoutbox
):
    article = Article.objects.get(source_key="003_3276b30b763cc5a2")
    page.goto(live_server.url + article.get_absolute_url())
    page.get_by_role("navigation", name="Your account").get_by_role("link", name="Sign up").click()
    page.get_by_role("textbox", name="Email").fill("journey@example.com")
    page.get_by_role("textbox", name="Display name").fill("Jo Journey")
    page.locator("#id_password1").fill("a long journey passphrase")
    page.locator("#id_password2").fill("a long journey passphrase")
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Verify Your Email Address")

    [mail] = mailoutbox
    assert mail.to == ["journey@example.com"]
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.body)[0]
    page.goto(link)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("navigation", name="Your account")).to_contain_text("Sign out")

    page.goto(live_server.url + article.get_absolute_url())
    form = page.locator("#comments form.comment-form").first
    expect(form).to_contain_text("Commenting as Jo Journey")
    expect(form.get_by_role("textbox", name="Name")).to_have_count(0)
    form.get_by_role("textbox", name="Comment").fill("My first word as a reader.")
    form.get_by_role("button", name="Post comment").click()

    comment = Comment.objects.get(article=article, body="My first word as a reader.")
    assert comment.commenter.user.email == "journey@example.com"
    posted = page.locator(f"#comment-{comment.pk}")
    expect(posted).to_be_visible()
    author = posted.get_by_role("link", name="Jo Journey", exact=True)
    expect(author).to_have_attribute("href", "/readers/jo-journey/")
    author.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Jo Journey")
    expect(page.get_by_role("link", name=article.title)).to_be_visible()


def long_thread(settings, replies: int = 5, shown: int = 3):
    """An article with one thread of `replies` replies, of which the page shows `shown`."""
    from tests.factories import make_article, make_comment

    settings.COMMENTS_REPLIES_SHOWN = shown
    article = make_article(title="A long exchange")
    root = make_comment(article, author_name="Ararat")
    made = [make_comment(article, parent=root, body=f"Reply number {n}.") for n in range(replies)]
    return article, root, made


def test_show_more_replies_loads_the_rest_of_a_thread_in_place(page, live_server, settings):
    article, root, replies = long_thread(settings)
    page.goto(live_server.url + article.get_absolute_url())
    for reply in replies[:3]:
        expect(page.locator(f"#comment-{reply.pk}")).to_be_visible()
    expect(page.locator(f"#comment-{replies[3].pk}")).to_have_count(0)
    more = page.get_by_role("link", name="Show 2 more replies")
    more.click()
    expect(page.locator(f"#comment-{replies[4].pk}")).to_be_visible()
    expect(page.locator(f"#comment-{replies[3].pk}")).to_be_focused()
    expect(page).to_have_url(live_server.url + article.get_absolute_url())
    expect(page.locator(".more-replies-link")).to_have_count(0)
    # Each comment once, in tree order, in the one thread.
    shown = page.locator(f"li:has(> #comment-{root.pk}) article.comment").evaluate_all(
        "(comments) => comments.map((comment) => comment.dataset.commentId)"
    )
    assert shown == [str(c.pk) for c in [root, *replies]]


def test_show_more_replies_without_javascript_opens_the_threads_page(
    browser, live_server, settings
):
    article, root, replies = long_thread(settings)
    context = browser.new_context(java_script_enabled=False, viewport={"width": 375, "height": 800})
    try:
        tab = context.new_page()
        tab.goto(live_server.url + article.get_absolute_url())
        tab.get_by_role("link", name="Show 2 more replies").click()
        expect(tab).to_have_url(re.compile(rf"/articles/{article.slug}/threads/{root.pk}/$"))
        expect(tab.get_by_role("heading", level=1)).to_have_text("Thread by Ararat, 5 replies")
        for reply in replies:
            expect(tab.locator(f"#comment-{reply.pk}")).to_be_visible()
        tab.get_by_role("link", name="Back to “A long exchange”").click()
        expect(tab).to_have_url(re.compile(rf"{article.get_absolute_url()}#comment-{root.pk}$"))
    finally:
        context.close()


def test_comments_published_while_the_page_is_read_are_announced_and_shown_on_request(
    browser, page, live_server, settings
):
    from tests.factories import make_article, make_comment

    settings.COMMENT_RATE_LIMIT = "off"
    article = make_article(title="A developing story")
    first = make_comment(article)
    page.clock.install()
    page.goto(live_server.url + article.get_absolute_url())
    notice = page.locator("[data-new-comments]")
    assert notice.get_attribute("data-poll-seconds") == "30"

    def is_poll(response) -> bool:
        return "/comments/count/" in response.url

    with page.expect_response(is_poll):
        page.clock.run_for("00:31")
    expect(notice).to_be_empty()
    expect(notice).to_be_hidden()

    other = browser.new_context()
    try:
        tab = other.new_page()
        tab.goto(live_server.url + article.get_absolute_url())
        form = tab.locator("#comments form.comment-form").first
        form.get_by_role("textbox", name="Comment").fill("News from the other side.")
        form.get_by_role("textbox", name="Name").fill("Lilit")
        form.get_by_role("textbox", name="Email").fill("lilit@example.com")
        form.get_by_role("button", name="Post comment").click()
        expect(tab.get_by_text("Thank you, your comment is published.")).to_be_visible()
    finally:
        other.close()
    new = Comment.objects.get(body="News from the other side.")

    # Nothing shows before the next turn, and nothing is inserted after it.
    expect(notice).to_be_empty()
    with page.expect_response(is_poll) as answer:
        page.clock.run_for("00:31")
    assert answer.value.status == 200
    expect(notice).to_have_text("1 new comment — Show")
    expect(page.locator(f"#comment-{new.pk}")).to_have_count(0)
    expect(page.locator(f"#comment-{first.pk}")).to_be_visible()

    notice.get_by_role("button", name="Show").click()
    expect(page.locator(f"#comment-{new.pk}")).to_be_visible()
    expect(page).to_have_url(re.compile(r"#comments$"))
    expect(page.locator("[data-new-comments]")).to_be_empty()


def test_the_new_comments_poll_rests_while_the_tab_is_hidden(page, live_server):
    from tests.factories import make_article

    article = make_article()
    asked = []

    def is_poll(response) -> bool:
        return "/comments/count/" in response.url

    page.on(
        "request",
        lambda request: asked.append(request.headers.get("if-none-match"))
        if "/comments/count/" in request.url
        else None,
    )
    def answered() -> None:
        """The script schedules its next turn once it has read an answer, a moment after the
        browser received it: the clock moves on only after that."""
        page.wait_for_timeout(500)

    page.clock.install()
    page.goto(live_server.url + article.get_absolute_url())
    with page.expect_response(is_poll) as first:
        page.clock.run_for("00:31")
    assert first.value.status == 200
    answered()
    with page.expect_response(is_poll) as second:
        page.clock.run_for("00:31")
    answered()
    # The second turn holds the first answer's version, and nothing changed.
    assert second.value.status == 304
    assert asked == [None, first.value.headers["etag"]]

    def visibility(hidden: bool) -> None:
        page.evaluate(
            """(hidden) => {
                 Object.defineProperty(document, "hidden", {value: hidden, configurable: true});
                 document.dispatchEvent(new Event("visibilitychange"));
               }""",
            hidden,
        )

    visibility(True)
    page.clock.run_for("05:00")
    page.wait_for_timeout(300)
    assert len(asked) == 2
    # Back in view, it asks at once.
    with page.expect_response(is_poll):
        visibility(False)
    assert len(asked) == 3
def test_under_verify_a_guests_comment_appears_only_after_its_mailed_link_is_followed(
    page, live_server, seeded, settings, mailoutbox
):
    settings.COMMENTS_GUESTS = "verify"
    settings.SITE_URL = live_server.url
    article = Article.objects.get(source_key="003_3276b30b763cc5a2")
    page.goto(live_server.url + article.get_absolute_url())

    form = page.locator("#comments form.comment-form").first
    form.get_by_role("textbox", name="Comment").fill("Confirmed by mail, then shown.")
    form.get_by_role("textbox", name="Name").fill("Lusine")
    form.get_by_role("textbox", name="Email").fill("lusine@example.com")
    form.get_by_role("button", name="Post comment").click()

    expect(page.get_by_role("status")).to_contain_text(
        "Check your email: we sent a link to lusine@example.com."
    )
    expect(page.get_by_text("Confirmed by mail, then shown.")).to_have_count(0)
    assert not Comment.objects.filter(body="Confirmed by mail, then shown.").exists()

    [mail] = mailoutbox
    assert mail.to == ["lusine@example.com"]
    link = re.search(rf"{re.escape(live_server.url)}/comments/confirm/\S+/", mail.body)[0]
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your comment")
    page.get_by_role("button", name="Post my comment").click()

    comment = Comment.objects.get(body="Confirmed by mail, then shown.")
    expect(page).to_have_url(re.compile(rf"#comment-{comment.pk}$"))
    expect(page.locator(f"#comment-{comment.pk} .comment-body")).to_have_text(comment.body)
    expect(page.get_by_role("status")).to_contain_text("your comment is published")

    # This browser confirmed the address: its next comment needs no link.
    form = page.locator("#comments form.comment-form").first
    form.get_by_role("textbox", name="Comment").fill("And a second thought.")
    form.get_by_role("textbox", name="Name").fill("Lusine")
    form.get_by_role("textbox", name="Email").fill("lusine@example.com")
    form.get_by_role("button", name="Post comment").click()
    second = Comment.objects.get(body="And a second thought.")
    expect(page.locator(f"#comment-{second.pk} .comment-body")).to_have_text(second.body)
    assert len(mailoutbox) == 1

    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("This link has been used")
def test_a_newcomer_signs_up_over_smtp_with_the_task_worker_running(
    page, queue_database, smtp_server, tmp_path
):
    """The same journey as `make run` serves it with EMAIL_HOST set: gunicorn, the real
    `manage.py db_worker` sending the verification mail to an SMTP server, and the link read
    from the mail as delivered."""
    env = {
        **queue_database,
        **smtp_server.environment(),
        "DEFAULT_FROM_EMAIL": "Newsroom <news@example.org>",
    }
    seeded = django_process(
        {**SECRET, **env},
        """
        from io import StringIO
        from django.core.management import call_command
        from articles.models import Article
        call_command("import_articles", "fixtures/seeds", stdout=StringIO())
        article = Article.objects.published().order_by("pk").first()
        print(article.get_absolute_url())
        print(article.title)
        """,
    )
    assert seeded.returncode == 0, seeded.stderr
    path, title = seeded.stdout.splitlines()[-2:]

    with gunicorn_server({**SECRET, **env}) as port, db_worker(env, tmp_path / "worker.log"):
        site = f"http://127.0.0.1:{port}"
        page.goto(site + path)
        account = page.get_by_role("navigation", name="Your account")
        account.get_by_role("link", name="Sign up").click()
        page.get_by_role("textbox", name="Email").fill("smtp.journey@example.com")
        page.get_by_role("textbox", name="Display name").fill("Sam Smtp")
        page.locator("#id_password1").fill("a long journey passphrase")
        page.locator("#id_password2").fill("a long journey passphrase")
        page.get_by_role("button", name="Sign Up").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Verify Your Email Address")

        [(recipients, message)] = smtp_server.wait_for_messages(1)
        assert recipients == ["smtp.journey@example.com"]
        assert message["To"] == "smtp.journey@example.com"
        assert message["From"] == "Newsroom <news@example.org>"
        assert message["Subject"] == "[Newsroom] Please Confirm Your Email Address"
        assert message["Message-ID"] and message["Date"]
        plain, html = message.iter_parts()
        assert (plain.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
        link = re.search(rf"{re.escape(site)}/accounts/confirm-email/\S+/", plain.get_content())[0]
        assert f'href="{link}"' in html.get_content()
        assert "Sam Smtp" in plain.get_content()

        page.goto(link)
        page.get_by_role("button", name="Confirm").click()
        expect(account).to_contain_text("Sign out")

        page.goto(site + path)
        expect(page.get_by_role("heading", level=1)).to_have_text(title)
        form = page.locator("#comments form.comment-form").first
        expect(form).to_contain_text("Commenting as Sam Smtp")
        words = "Posted after a mail that really went out."
        form.get_by_role("textbox", name="Comment").fill(words)
        form.get_by_role("button", name="Post comment").click()
        posted = page.locator(".comment", has_text=words)
        expect(posted).to_be_visible()
        author = posted.get_by_role("link", name="Sam Smtp", exact=True)
        expect(author).to_have_attribute("href", "/readers/sam-smtp/")
        author.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Sam Smtp")
        expect(page.get_by_role("link", name=title)).to_be_visible()
def test_share_copies_the_stable_link_and_is_a_plain_link_without_javascript(
    browser, live_server, seeded
):
    root, reply = thread_with_replies()
    stable = f"{live_server.url}{reply.get_absolute_url()}"
    context = browser.new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    page.goto(live_server.url + root.article.get_absolute_url())
    share = page.locator(f"#comment-{reply.pk} .share-link")
    share.click()
    expect(share).to_have_text("Link copied")
    expect(page.get_by_role("status").filter(has_text="Link copied")).to_have_count(1)
    assert page.evaluate("navigator.clipboard.readText()") == stable
    assert page.url.endswith(root.article.get_absolute_url()), "the click stayed on the page"
    context.close()

    without = browser.new_context(java_script_enabled=False)
    page = without.new_page()
    page.goto(live_server.url + root.article.get_absolute_url() + "?sort=newest")
    page.locator(f"#comment-{reply.pk} .share-link").click()
    # The permalink opens the discussion in the order this reader chose.
    expect(page).to_have_url(
        re.compile(rf"{root.article.get_absolute_url()}\?sort=newest(&page=\d+)?#comment-{reply.pk}$")
    )
    without.close()


def test_the_composer_waits_until_focused_and_counts_near_the_limit(
    browser, page, live_server, seeded
):
    article = Article.objects.get(source_key="003_3276b30b763cc5a2")
    page.goto(live_server.url + article.get_absolute_url())
    composer = page.get_by_role("form", name="Join the discussion")
    name = composer.get_by_role("textbox", name="Name")
    body = composer.get_by_role("textbox", name="Comment")
    expect(name).to_be_hidden()
    expect(composer.get_by_role("button", name="Post comment")).to_be_hidden()
    small = body.bounding_box()["height"]
    body.focus()
    expect(name).to_be_visible()
    expect(name).to_have_attribute("autocomplete", "name")
    expect(composer.get_by_role("textbox", name="Email")).to_have_attribute("autocomplete", "email")
    assert body.bounding_box()["height"] > small

    counter = composer.locator(".char-count")
    body.fill("x" * 4000)
    expect(counter).to_be_hidden()
    body.fill("x" * 4600)
    expect(counter).to_have_text("400 characters left")
    # Screen readers hear the count at a few steps, not at every key.
    spoken = composer.locator("[aria-live]")
    expect(spoken).to_have_text("400 characters left")
    body.press("End")
    body.type("xx")
    expect(counter).to_have_text("398 characters left")
    expect(spoken).to_have_text("400 characters left")

    # Without JavaScript the whole form shows and posts.
    plain = browser.new_context(java_script_enabled=False).new_page()
    plain.goto(live_server.url + article.get_absolute_url())
    form = plain.get_by_role("form", name="Join the discussion")
    expect(form.get_by_role("textbox", name="Name")).to_be_visible()
    form.get_by_role("textbox", name="Comment").fill("Posted without a script.")
    form.get_by_role("textbox", name="Name").fill("Nare")
    form.get_by_role("textbox", name="Email").fill("nare@example.com")
    form.get_by_role("button", name="Post comment").click()
    posted = Comment.objects.get(body="Posted without a script.")
    expect(plain.locator(f"#comment-{posted.pk}")).to_be_visible()
    plain.context.close()


def test_an_inline_reply_says_whom_it_answers_and_escape_gives_the_focus_back(
    page, live_server, seeded
):
    root, _ = thread_with_replies()
    page.goto(live_server.url + root.article.get_absolute_url())
    comment = page.locator(f"#comment-{root.pk}")
    expect(comment).to_have_attribute("aria-label", f"Comment by {root.author_name}")
    reply = comment.get_by_role("link", name=f"Reply to {root.author_name}")
    reply.click()
    form = comment.locator("form.comment-form-inline")
    expect(form).to_be_visible()
    expect(form.locator(".reply-header")).to_have_text(f"Replying to {root.author_name}×")
    # Under the comment's actions, with the focus in the first field to fill.
    assert comment.locator(".comment-actions + form.comment-form-inline").count() == 1
    expect(form.get_by_role("textbox", name="Comment")).to_be_focused()
    expect(form.get_by_role("button", name="Cancel", exact=True)).to_have_class(
        re.compile("button-secondary")
    )
    expect(reply).to_have_attribute("aria-expanded", "true")

    page.keyboard.type("Half a thought")
    page.keyboard.press("Escape")
    expect(form).to_have_count(0)
    expect(reply).to_be_focused()
    expect(reply).to_have_attribute("aria-expanded", "false")

    reply.click()
    page.get_by_role("button", name=f"Cancel reply to {root.author_name}").click()
    expect(comment.locator("form.comment-form-inline")).to_have_count(0)
    expect(reply).to_be_focused()


def test_the_confirmation_shows_where_the_reader_acted(page, live_server, seeded):
    article = Article.objects.get(source_key="003_3276b30b763cc5a2")
    page.goto(live_server.url + article.get_absolute_url())
    composer = page.get_by_role("form", name="Join the discussion")
    composer.get_by_role("textbox", name="Comment").fill("Published at once.")
    composer.get_by_role("textbox", name="Name").fill("Anahit")
    composer.get_by_role("textbox", name="Email").fill("anahit@example.com")
    composer.get_by_role("button", name="Post comment").click()
    posted = Comment.objects.get(body="Published at once.")
    status = page.locator(f"#comment-{posted.pk} [role=status]")
    expect(status).to_have_text("Thank you, your comment is published. Edit it (for 15 minutes).")
    expect(status).to_be_focused()
    expect(page.locator("ul.messages")).to_have_count(0)

    page.locator(f"#comment-{posted.pk} .report-link").click()
    page.get_by_label("Off-topic").check()
    page.get_by_role("button", name="Send report").click()
    reported = page.locator(f"#comment-{posted.pk} .comment-feedback")
    expect(reported).to_have_text("Reported — thank you")
    expect(reported).to_have_attribute("role", "status")
    expect(page.locator(f"#comment-{posted.pk} .report-link")).to_have_count(0)

    Article.objects.filter(pk=article.pk).update(premoderated=True)
    page.goto(live_server.url + article.get_absolute_url())
    composer.get_by_role("textbox", name="Comment").fill("Held for a moderator.")
    composer.get_by_role("textbox", name="Name").fill("Anahit")
    composer.get_by_role("textbox", name="Email").fill("anahit@example.com")
    composer.get_by_role("button", name="Post comment").click()
    held = page.locator("form.comment-form .comment-form-feedback")
    expect(held).to_contain_text("Your comment is awaiting moderation")
    expect(held).to_have_attribute("role", "status")
    expect(held).to_be_focused()


def test_an_error_puts_the_focus_on_the_first_field_in_error(page, live_server, seeded):
    article = Article.objects.get(source_key="003_3276b30b763cc5a2")
    page.goto(live_server.url + article.get_absolute_url())
    composer = page.get_by_role("form", name="Join the discussion")
    composer.get_by_role("textbox", name="Comment").fill("A word.")
    composer.get_by_role("textbox", name="Email").fill("not an address")
    composer.get_by_role("textbox", name="Email").evaluate("field => field.type = 'text'")
    composer.get_by_role("button", name="Post comment").click()
    expect(page.get_by_role("textbox", name="Name")).to_be_focused()


@pytest.mark.parametrize("javascript", [True, False])
def test_a_long_comment_folds_and_read_more_opens_it(browser, live_server, seeded, javascript):
    long = next(c for c in Comment.objects.filter(status="published") if len(c.body) > 1200)
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  java_script_enabled=javascript)
    page = context.new_page()
    page.goto(live_server.url + long.article.get_absolute_url())
    comment = page.locator(f"#comment-{long.pk}")
    body = comment.locator(".comment-body")
    folded = body.evaluate("b => [b.clientHeight, b.scrollHeight]")
    assert folded[0] < folded[1], f"not folded: {folded}"
    more = comment.get_by_text("Read more")
    expect(more).to_be_visible()
    more.click()
    opened = body.evaluate("b => [b.clientHeight, b.scrollHeight]")
    assert opened[0] == opened[1], f"still folded: {opened}"
    expect(comment.get_by_text("Show less")).to_be_visible()
    context.close()


def queue_comments(count: int) -> list[Comment]:
    """`count` comments of the seeds put back in the moderators' queue, oldest first."""
    comments = list(Comment.objects.order_by("tree_id", "lft")[:count])
    Comment.objects.filter(pk__in=[c.pk for c in comments]).update(status="pending")
    return comments


def sign_in_as_moderator(page, base: str) -> None:
    moderator = User.objects.create_user("reviewer", password="a long reviewer passphrase",
                                         is_staff=True)
    moderator.groups.add(moderators_group())
    page.goto(f"{base}/admin/login/")
    page.get_by_label("Username").fill("reviewer")
    page.get_by_label("Password").fill("a long reviewer passphrase")
    page.get_by_role("button", name="Log in").click()


def test_a_moderator_decides_twenty_comments_by_keyboard_alone_then_undoes_one(
    page, live_server, seeded
):
    queued = queue_comments(20)
    sign_in_as_moderator(page, live_server.url)
    page.goto(f"{live_server.url}/admin/comments/commentqueue/review/")
    # A full page load would forget this.
    page.evaluate("window.reviewMarker = 'same page'")
    main = page.locator("#review-main .review")
    # Approve, remove for reason 5 (off-topic), spam, then again: 20 decisions.
    plan = (["a"], ["r", "5"], ["s"], ["r", "2"])
    keystrokes = 0
    decided = []
    for n in range(20):
        current = int(main.get_attribute("data-comment"))
        decided.append(current)
        for key in plan[n % len(plan)]:
            page.keyboard.press(key)
            keystrokes += 1
        if n < 19:
            expect(main).not_to_have_attribute("data-comment", str(current))
        else:
            expect(page.get_by_role("heading", name="The queue is empty")).to_be_visible()
        expect(page.locator("#review-heading")).to_be_focused()

    assert keystrokes == 20 + 10  # one key per decision, one digit per removal
    assert sorted(decided) == sorted(c.pk for c in queued)
    assert page.evaluate("window.reviewMarker") == "same page"
    statuses = dict(Comment.objects.filter(pk__in=decided).values_list("pk", "status"))
    expected = {"a": "published", "r": "removed", "s": "spam"}
    for n, pk in enumerate(decided):
        assert statuses[pk] == expected[plan[n % len(plan)][0]], n
    reasons = dict(Comment.objects.filter(pk__in=decided).values_list("pk", "removal_reason"))
    assert reasons[decided[1]] == "off_topic" and reasons[decided[3]] == "abusive"
    expect(page.locator("#review-live")).to_contain_text("1 comment removed.")

    # The last decision (a removal) taken back: the comment is in the queue again, on screen.
    page.keyboard.press("u")
    expect(main).to_have_attribute("data-comment", str(decided[-1]))
    expect(page.locator("#review-live")).to_contain_text("Undone")
    assert Comment.objects.get(pk=decided[-1]).status == "pending"
    assert page.evaluate("window.reviewMarker") == "same page"
    assert page.url.endswith(f"?comment={decided[-1]}")


def test_a_moderator_decides_three_comments_by_buttons_without_javascript(
    browser, live_server, seeded
):
    first, second, third = queue_comments(3)
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  java_script_enabled=False)
    page = context.new_page()
    sign_in_as_moderator(page, live_server.url)
    page.goto(f"{live_server.url}/admin/comments/commentqueue/review/")

    page.get_by_role("button", name="Approve").click()
    expect(page.locator("ul.messagelist")).to_contain_text("1 comment approved.")
    page.get_by_label("Hate speech").check()
    page.get_by_role("button", name="Remove", exact=True).click()
    expect(page.locator("ul.messagelist")).to_contain_text("1 comment removed.")
    page.get_by_role("button", name="Spam").click()
    expect(page.locator("ul.messagelist")).to_contain_text("1 comment marked as spam.")
    expect(page.get_by_role("heading", name="The queue is empty")).to_be_visible()

    statuses = dict(
        Comment.objects.filter(pk__in=[first.pk, second.pk, third.pk]).values_list(
            "pk", "status"
        )
    )
    assert sorted(statuses.values()) == ["published", "removed", "spam"]
    assert Comment.objects.get(status="removed", pk__in=statuses).removal_reason == "hate_speech"
    context.close()
def test_a_guest_edits_then_deletes_their_own_comment_and_its_reply_stays(
    page, browser, live_server, seeded
):
    article = Article.objects.get(source_key="003_3276b30b763cc5a2")
    page.goto(live_server.url + article.get_absolute_url())
    form = page.locator("#comments form.comment-form").first
    form.get_by_role("textbox", name="Comment").fill("Teh first word.")
    form.get_by_role("textbox", name="Name").fill("Anahit")
    form.get_by_role("textbox", name="Email").fill("anahit@example.com")
    form.get_by_role("button", name="Post comment").click()
    mine = Comment.objects.get(article=article, body="Teh first word.")
    comment = page.locator(f"#comment-{mine.pk}")

    # Only the author's browser offers the actions; another reader's page does not.
    other = browser.new_context().new_page()
    other.goto(live_server.url + article.get_absolute_url())
    expect(other.locator(f"#comment-{mine.pk} .comment-actions")).to_be_visible()
    expect(other.locator(f"#comment-{mine.pk}").get_by_role("link", name="Edit")).to_have_count(0)

    comment.get_by_role("link", name="Edit your comment").click()
    expect(page).to_have_url(re.compile(rf"/comments/{mine.pk}/edit/$"))
    page.get_by_role("textbox", name="Your comment").fill("The first word.")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(rf"#comment-{mine.pk}$"))
    expect(comment.locator(".comment-body")).to_have_text("The first word.")
    expect(comment.locator(".comment-edited")).to_contain_text("edited")

    reply = Comment.objects.create(
        article=article, parent=mine, author_name="Vardan", author_email="v@example.com",
        body="An answer that stays.",
    )
    page.reload()
    comment.get_by_role("link", name="Delete your comment").click()
    expect(page.get_by_role("heading", name="Delete your comment?")).to_be_visible()
    page.get_by_role("button", name="Delete my comment").click()
    expect(page.locator(f"#comment-{mine.pk}")).to_have_text("[deleted by its author]")
    expect(page.locator(f"#comment-{reply.pk} .comment-body")).to_have_text(reply.body)
    other.context.close()
def signed_in_context(browser, live_server, user, **options):
    """A browser context signed in as `user`, through a session made by Django's test client."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    context = browser.new_context(**options)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )
    return context


@pytest.mark.parametrize("javascript", [True, False])
def test_a_reader_recommends_a_comment(browser, live_server, javascript):
    from comments.models import Recommendation
    from tests.factories import make_article, make_comment, make_reader

    article = make_article(title="Worth recommending")
    comment = make_comment(article, author_name="Ararat")
    reader = make_reader()
    context = signed_in_context(
        browser, live_server, reader,
        viewport={"width": 1280, "height": 900}, java_script_enabled=javascript,
    )
    page = context.new_page()
    page.goto(live_server.url + article.get_absolute_url())
    shown = page.locator(f"#comment-{comment.pk}")
    button = shown.get_by_role("button", name="Recommend Ararat’s comment")
    count = shown.locator(".recommend-count")
    if javascript:
        expect(button).to_have_attribute("aria-pressed", "false")
        button.click()
        expect(button).to_have_attribute("aria-pressed", "true")
        expect(count).to_have_text("1 recommendation")
        assert Recommendation.objects.filter(comment=comment).count() == 1
        # The reader's own state comes back with the page, whatever its cached copy holds.
        page.reload()
        expect(button).to_have_attribute("aria-pressed", "true")
        expect(count).to_have_text("1 recommendation")
        button.click()
        expect(button).to_have_attribute("aria-pressed", "false")
        expect(count).to_have_text("")
        expect(page).to_have_url(live_server.url + article.get_absolute_url())
        assert not Recommendation.objects.exists()
    else:
        button.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Recommend this comment")
        page.get_by_role("button", name="Recommend Ararat’s comment").click()
        expect(page).to_have_url(
            re.compile(rf"{article.get_absolute_url()}#comment-{comment.pk}$")
        )
        expect(page.locator(".messages")).to_contain_text(
            "You recommended Ararat’s comment (1 recommendation)."
        )
        expect(count).to_have_text("1 recommendation")
        assert Recommendation.objects.filter(comment=comment).count() == 1
    context.close()


def test_a_guest_who_recommends_is_invited_to_sign_in(page, live_server):
    from comments.models import Recommendation
    from tests.factories import make_article, make_comment

    article = make_article()
    comment = make_comment(article, author_name="Ararat")
    page.goto(live_server.url + article.get_absolute_url())
    shown = page.locator(f"#comment-{comment.pk}")
    shown.get_by_role("button", name="Recommend Ararat’s comment").click()
    feedback = page.locator(f"li:has(> #comment-{comment.pk}) .recommend-feedback")
    expect(feedback).to_contain_text("Sign in to recommend comments.")
    feedback.get_by_role("link", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    assert not Recommendation.objects.exists()
