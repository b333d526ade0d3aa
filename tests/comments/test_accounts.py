"""Readers' accounts: sign-up with a display name, verification, signing in, posting as the
account, staff comments, and the bad input of each step."""

import logging
import re
import socket

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.urls import reverse

from comments.models import Comment, Commenter, ModerationPolicy, ReservedName
from tests.factories import make_article, make_reader

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


def signup(client, **fields):
    values = {
        "email": "newcomer@example.com",
        "display_name": "Nell Newcomer",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    values.update(fields)
    return client.post(reverse("account_signup"), values)


def link_in(mail) -> str:
    return re.search(r"https?://[^/\s]+(/\S+)", mail.body)[1]


def post_comment(client, article, **fields):
    return client.post(reverse("comments:post", args=[article.slug]), {"body": "Hello.", **fields})


def test_the_sign_up_page_is_in_the_site_layout(client):
    html = client.get(reverse("account_signup")).content.decode()
    assert 'class="site-header"' in html
    assert 'name="display_name"' in html
    assert 'css/accounts.css' in html
    assert "<script" not in html


def test_a_newcomer_signs_up_verifies_and_comments_as_the_account(
    client, mailoutbox, committing
):
    article = make_article()

    def sign_up():
        response = signup(client)
        # Queued, not sent during the request.
        assert mailoutbox == []
        return response

    response = committing(sign_up)
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    user = get_user_model().objects.get(email="newcomer@example.com")
    assert user.commenter.display_name == "Nell Newcomer"
    assert user.commenter.handle == "nell-newcomer"
    assert not EmailAddress.objects.get(user=user).verified

    # Not verified yet: the account cannot comment.
    client.force_login(user)
    refused = post_comment(client, article)
    assert refused.status_code == 403
    assert reverse("account_email") in refused.content.decode()
    assert not Comment.objects.exists()
    client.logout()

    [mail] = mailoutbox
    assert mail.to == ["newcomer@example.com"]
    assert mail.subject.startswith("[Newsroom] ")
    confirm = link_in(mail)
    [(html, mimetype)] = mail.alternatives
    assert mimetype == "text/html"
    assert f'<a href="http://testserver{confirm}"' in html
    assert "<title>[Newsroom] Please Confirm Your Email Address</title>" in html
    page = client.get(confirm)
    assert page.status_code == 200
    assert "Nell Newcomer" in page.content.decode()
    assert client.post(confirm).status_code == 302
    assert EmailAddress.objects.get(user=user).verified

    response = client.post(
        reverse("account_login"), {"login": "newcomer@example.com", "password": PASSWORD}
    )
    assert response.status_code == 302
    response = post_comment(client, article, name="Someone Else", email="x@example.com")
    assert response.status_code == 302
    comment = Comment.objects.get()
    assert comment.commenter == user.commenter
    assert comment.author_name == "Nell Newcomer"
    assert comment.author_email == "newcomer@example.com"

    html = client.get(article.get_absolute_url()).content.decode()
    assert '<a class="comment-author-link" href="/readers/nell-newcomer/">Nell Newcomer</a>' in html


def test_a_taken_address_gets_the_same_answer_and_its_owner_a_notice(
    client, mailoutbox, committing
):
    make_reader(email="taken@example.com", display_name="First Owner")
    response = committing(signup, client, email="taken@example.com", display_name="Second Comer")
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert get_user_model().objects.filter(email="taken@example.com").count() == 1
    assert not Commenter.objects.filter(display_name="Second Comer").exists()
    [mail] = mailoutbox
    assert mail.to == ["taken@example.com"]
    assert "already" in mail.body.lower()
    # A new address gets the very same answer.
    fresh = signup(client, email="fresh@example.com", display_name="Fresh Reader")
    assert fresh["Location"] == response["Location"]


@pytest.mark.parametrize("email", ["not-an-address", "a@b@c.example", "", "x" * 250 + "@e.com"])
def test_an_invalid_address_is_refused_with_a_message(client, email):
    response = signup(client, email=email)
    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()
    assert not get_user_model().objects.exists()


@pytest.mark.parametrize(
    "name", ["Moderator", "ＭＯＤＥＲＡＴＯＲ", "m o d e r a t o r", "Modérator", "M\u043ederator"]
)
def test_a_reserved_display_name_is_refused_at_sign_up(client, name, mailoutbox, committing):
    ReservedName.objects.create(name="moderator")
    response = committing(signup, client, display_name=name)
    assert response.status_code == 200
    assert "reserved" in response.content.decode()
    assert not get_user_model().objects.exists()
    assert not mailoutbox


def test_a_display_name_with_a_control_character_is_refused(client):
    response = signup(client, display_name="Nell\u0007")
    assert response.status_code == 200
    assert "control character" in response.content.decode()


@pytest.mark.parametrize("key", ["nonsense", "MQ:1tampered:abcdef", "A" * 300])
def test_a_tampered_verification_link_gets_a_clear_page(client, key, mailoutbox, committing):
    committing(signup, client)
    client.logout()
    real = link_in(mailoutbox[0])
    for url in (reverse("account_confirm_email", args=[key]), real[:-4] + "xxx/"):
        page = client.get(url)
        assert page.status_code == 200
        assert "expired or is invalid" in page.content.decode()
        assert client.post(url).status_code in (200, 404)
    assert not EmailAddress.objects.filter(verified=True).exists()


def test_a_tampered_password_reset_link_gets_a_clear_page(client, mailoutbox, committing):
    make_reader(email="forgetful@example.com")
    committing(client.post, reverse("account_reset_password"), {"email": "forgetful@example.com"})
    [mail] = mailoutbox
    link = link_in(mail)
    page = client.get(link[:-6] + "zzzzz/", follow=True)
    assert page.status_code == 200
    assert "invalid" in page.content.decode().lower()


def test_a_password_reset_never_says_whether_an_address_has_an_account(
    client, mailoutbox, committing
):
    make_reader(email="known@example.com")
    known = committing(
        client.post, reverse("account_reset_password"), {"email": "known@example.com"}
    )
    unknown = committing(
        client.post, reverse("account_reset_password"), {"email": "nobody@example.com"}
    )
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    # Each address gets a mail (allauth tells an unknown one that it has no account); only
    # the owner's holds a reset link.
    mails = {mail.to[0]: mail.body for mail in mailoutbox}
    assert set(mails) == {"known@example.com", "nobody@example.com"}
    assert "/accounts/password/reset/key/" in mails["known@example.com"]
    assert "/accounts/password/reset/key/" not in mails["nobody@example.com"]


def test_asking_a_code_for_an_unknown_address_answers_the_same(client, mailoutbox):
    make_reader(email="known@example.com")
    known = client.post(reverse("account_request_login_code"), {"email": "known@example.com"})
    unknown = client.post(reverse("account_request_login_code"), {"email": "who@example.com"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]


def test_signing_in_by_a_code_sent_by_email(client, mailoutbox, committing):
    reader = make_reader(email="coder@example.com")
    response = committing(
        client.post, reverse("account_request_login_code"), {"email": "coder@example.com"}
    )
    assert response.status_code == 302
    [mail] = mailoutbox
    code = re.search(r"^([A-Z0-9]{4}-[A-Z0-9]{4})$", mail.body, re.MULTILINE)[1]
    response = client.post(reverse("account_confirm_login_code"), {"code": code})
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == reader.pk


def test_failed_sign_ins_are_rate_limited(client):
    """allauth's limit: five failed sign-ins for one address in five minutes, then even the
    right password is refused for a while."""
    make_reader(email="target@example.com")

    def sign_in(password):
        return client.post(
            reverse("account_login"), {"login": "target@example.com", "password": password}
        ).content.decode()

    for _ in range(5):
        assert "Too many failed login attempts" not in sign_in("wrong")
    assert "Too many failed login attempts" in sign_in(PASSWORD)
    assert "_auth_user_id" not in client.session


def test_sign_out_is_a_post(client):
    client.force_login(make_reader())
    assert client.get(reverse("account_logout")).status_code == 200
    assert "_auth_user_id" in client.session
    client.post(reverse("account_logout"))
    assert "_auth_user_id" not in client.session


class TestPostingAsAnAccount:
    def test_the_form_has_no_name_or_email_fields(self, client):
        article = make_article()
        client.force_login(make_reader(display_name="Form Reader"))
        html = client.get(article.get_absolute_url()).content.decode()
        form = html[html.index('class="comment-form') :]
        assert "Commenting as <strong>Form Reader</strong>" in form
        assert 'name="name"' not in form
        assert 'name="email"' not in form
        assert 'name="remember"' not in form
        assert 'form="site-signout"' in form

    def test_an_empty_comment_gets_the_form_again_without_name_fields(self, client):
        article = make_article()
        client.force_login(make_reader())
        response = post_comment(client, article, body="")
        assert response.status_code == 400
        html = response.content.decode()
        assert "Write something before posting." in html
        assert 'name="name"' not in html
        assert not Comment.objects.exists()

    def test_an_account_follows_the_policy_rules(self, client):
        ModerationPolicy.objects.create(pk=1, mode=ModerationPolicy.Mode.PREMODERATE)
        article = make_article()
        client.force_login(make_reader())
        post_comment(client, article)
        assert Comment.objects.get().status == Comment.Status.PENDING

    def test_an_account_whose_name_became_reserved_cannot_post_under_it(self, client):
        article = make_article()
        client.force_login(make_reader(display_name="The Editor"))
        ReservedName.objects.create(name="the editor")
        response = post_comment(client, article)
        assert response.status_code == 400
        assert "reserved" in response.content.decode()
        assert not Comment.objects.exists()

    def test_the_signed_in_article_page_keeps_a_fixed_number_of_queries(
        self, client, django_assert_max_num_queries
    ):
        article = make_article()
        readers = [make_reader() for _ in range(5)]
        for reader in readers:
            client.force_login(reader)
            post_comment(client, article, body=f"By {reader.pk}")
        assert Comment.objects.filter(commenter__isnull=False).count() == 5
        client.get(article.get_absolute_url())
        # The session, the user, the article, the thread count, the rows, the commenter.
        with django_assert_max_num_queries(6):
            html = client.get(article.get_absolute_url()).content.decode()
        assert html.count('class="comment-author-link"') == 5


class TestStaff:
    @pytest.fixture
    def staff(self, django_user_model):
        return django_user_model.objects.create_user(
            "reporter", email="reporter@example.com", first_name="Rita", last_name="Porter",
            is_staff=True,
        )

    def test_staff_comment_without_the_policy_rules_and_show_a_badge(self, client, staff):
        ModerationPolicy.objects.create(pk=1, mode=ModerationPolicy.Mode.PREMODERATE)
        article = make_article(premoderated=True)
        client.force_login(staff)
        response = post_comment(client, article, body="A staff answer.")
        assert response.status_code == 302
        comment = Comment.objects.get()
        assert comment.status == Comment.Status.PUBLISHED
        assert comment.author_name == "Rita Porter"
        assert comment.commenter.user == staff
        html = client.get(article.get_absolute_url()).content.decode()
        assert '<span class="comment-badge">Staff</span>' in html

    def test_a_staff_member_s_own_badge_text(self, client, staff):
        article = make_article()
        client.force_login(staff)
        post_comment(client, article)
        Commenter.objects.filter(user=staff).update(badge="Reporter")
        client.logout()
        html = client.get(article.get_absolute_url()).content.decode()
        assert '<span class="comment-badge">Reporter</span>' in html
        assert "comment-badge\">Staff" not in html

    def test_readers_comments_have_no_badge(self, client):
        article = make_article()
        client.force_login(make_reader())
        post_comment(client, article)
        client.logout()
        assert "comment-badge" not in client.get(article.get_absolute_url()).content.decode()

    def test_a_guest_cannot_use_a_staff_name(self, client, staff):
        article = make_article()
        response = client.post(
            reverse("comments:post", args=[article.slug]),
            {"name": "RITA PORTER", "email": "fake@example.com", "body": "Hi"},
        )
        assert response.status_code == 400
        assert "reserved" in response.content.decode()
        assert not Comment.objects.exists()

    def test_the_staff_lock_still_applies(self, client, staff, monkeypatch):
        from comments import services
        from newsroom.locking import LockTimeout

        def busy(article_id):
            raise LockTimeout("busy")

        monkeypatch.setattr(services, "lock_article", busy)
        article = make_article()
        client.force_login(staff)
        response = post_comment(client, article)
        assert response.status_code == 503
        assert not Comment.objects.exists()


def test_a_new_email_address_is_verified_before_it_replaces_the_old(
    client, mailoutbox, committing
):
    reader = make_reader(email="old@example.com")
    client.force_login(reader)
    response = committing(
        client.post, reverse("account_email"), {"email": "new@example.com", "action_add": ""}
    )
    assert response.status_code == 302
    reader.refresh_from_db()
    assert reader.email == "old@example.com"
    article = make_article()
    post_comment(client, article)
    assert Comment.objects.get().author_email == "old@example.com"

    [mail] = [mail for mail in mailoutbox if mail.to == ["new@example.com"]]
    client.post(link_in(mail))
    reader.refresh_from_db()
    assert reader.email == "new@example.com"
    assert EmailAddress.objects.get(user=reader).verified
    post_comment(client, article, body="From the new address.")
    assert Comment.objects.get(body="From the new address.").author_email == "new@example.com"


def test_changing_the_password(client):
    reader = make_reader()
    client.force_login(reader)
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": "a long passphrase 1", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    reader.refresh_from_db()
    assert reader.check_password(PASSWORD)


def test_a_mail_server_that_cannot_be_reached_costs_the_reader_nothing(
    client, settings, committing, caplog
):
    """The request only queues the mail; the worker's attempts fail, are retried and logged,
    and the reader has their account and the page that says a mail is on its way."""
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 2},
        }
    }
    settings.EMAIL_RETRY_DELAYS = [0]
    response = committing(
        signup, client, email="unlucky@example.com", display_name="Unlucky Reader"
    )
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "Verify Your Email Address" in page.content.decode()
    user = get_user_model().objects.get(email="unlucky@example.com")
    assert user.commenter.display_name == "Unlucky Reader"
    mail_logs = [record for record in caplog.records if record.name == "newsroom.mail"]
    assert [record.levelno for record in mail_logs] == [logging.WARNING, logging.ERROR]
    assert "ConnectionRefusedError" in mail_logs[-1].getMessage()
    assert "unlucky@example.com" not in mail_logs[-1].getMessage()


@pytest.mark.parametrize("part", [0, 1, 2], ids=["address", "timestamp", "signature"])
def test_a_verification_link_with_any_part_changed_verifies_nothing(
    client, mailoutbox, committing, part
):
    """The key is "address id:timestamp:signature"; another reader's address id, an other
    time or a changed signature each get the clear page, and no address is verified."""
    make_reader(verified=False)
    committing(signup, client)
    client.logout()
    link = link_in(mailoutbox[0])
    prefix, key, _ = link.rsplit("/", 2)
    parts = key.split(":")
    parts[part] = {0: "MQ" if parts[0] != "MQ" else "Mg", 1: "1aaaaa", 2: parts[2][::-1]}[part]
    tampered = f"{prefix}/{':'.join(parts)}/"
    assert tampered != link
    page = client.get(tampered)
    assert page.status_code == 200
    assert "expired or is invalid" in page.content.decode()
    assert client.post(tampered).status_code in (200, 404)
    assert not EmailAddress.objects.filter(verified=True).exists()


@pytest.mark.parametrize("part", ["account", "token"])
def test_a_password_reset_link_with_any_part_changed_resets_nothing(
    client, mailoutbox, committing, part
):
    make_reader(email="other@example.com")
    owner = make_reader(email="owner@example.com")
    committing(client.post, reverse("account_reset_password"), {"email": "owner@example.com"})
    link = link_in(mailoutbox[0])
    prefix, key, _ = link.rsplit("/", 2)
    account, token = key.split("-", 1)
    if part == "account":
        account = "1" if account != "1" else "2"
    else:
        token = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    page = client.get(f"{prefix}/{account}-{token}/", follow=True)
    assert page.status_code == 200
    assert "invalid" in page.content.decode().lower()
    assert 'name="password1"' not in page.content.decode()
    owner.refresh_from_db()
    assert owner.check_password("a long passphrase 1")


def test_a_wrong_sign_in_code_is_refused_with_a_message(client, mailoutbox, committing):
    make_reader(email="coder@example.com")
    committing(client.post, reverse("account_request_login_code"), {"email": "coder@example.com"})
    real = re.search(r"^([A-Z0-9]{4}-[A-Z0-9]{4})$", mailoutbox[0].body, re.MULTILINE)[1]
    wrong = "AAAA-AAAA" if real != "AAAA-AAAA" else "BBBB-BBBB"
    response = client.post(reverse("account_confirm_login_code"), {"code": wrong})
    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()
    assert "_auth_user_id" not in client.session
