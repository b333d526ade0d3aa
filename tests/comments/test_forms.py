import pytest
from django.core import signing
from django.test import RequestFactory

from comments.form_html import comment_form_html
from comments.forms import (
    AUTHOR_COOKIE,
    EMAIL_COOKIE,
    AccountCommentForm,
    CommentForm,
    ReportForm,
    remember_cookie_value,
)
from comments.subscriptions import reply_mail_preference_save
from tests.factories import make_article, make_comment, make_reader

pytestmark = pytest.mark.django_db


def form(article, **fields):
    data = {"name": "Ada", "email": "ada@example.com", "body": "Hello.", "parent": ""}
    data.update(fields)
    return CommentForm(data, article=article)


def test_a_valid_top_level_comment():
    article = make_article()

    f = form(article, name="  Ada   Lovelace ", body="  Line one\n\nLine two  ")

    assert f.is_valid(), f.errors
    assert f.cleaned_data["name"] == "Ada Lovelace"
    assert f.cleaned_data["body"] == "Line one\n\nLine two"
    assert f.cleaned_data["parent"] is None
    assert f.cleaned_data["remember"] is False


def test_the_limits_are_inclusive():
    article = make_article()

    assert form(article, name="n" * 80, body="b" * 5000).is_valid()
    assert not form(article, name="n" * 81).is_valid()
    assert not form(article, body="b" * 5001).is_valid()


def test_a_visible_parent_of_the_same_article_is_accepted():
    article = make_article()
    parent = make_comment(article)

    f = form(article, parent=str(parent.pk))

    assert f.is_valid()
    assert f.cleaned_data["parent"] == parent.pk


def test_the_honeypot_is_noticed_even_when_the_rest_is_invalid():
    article = make_article()

    assert form(article, website="http://spam.example", body="").is_trap_filled()
    assert not form(article, website="   ").is_trap_filled()
    assert not form(article).is_trap_filled()


def test_a_remember_cookie_is_read_once_per_request(monkeypatch):
    request = RequestFactory().get("/")
    request.COOKIES[AUTHOR_COOKIE] = remember_cookie_value("Ann")
    request.COOKIES[EMAIL_COOKIE] = "forged"
    reads = []
    loads = signing.loads
    monkeypatch.setattr(signing, "loads", lambda *a, **k: reads.append(a) or loads(*a, **k))

    for _ in range(2):
        initial = CommentForm.initial_for(request)

    assert (initial["name"], initial["email"], initial["remember"]) == ("Ann", "", True)
    assert len(reads) == 2


def test_an_accounts_form_reads_its_name_and_reply_mail_default_in_one_query(
    django_assert_num_queries,
):
    user = make_reader(display_name="Ann Reader")
    reply_mail_preference_save(
        commenter=user.commenter, subscribe_by_default=True, frequency="batched"
    )
    article = make_article()
    request = RequestFactory().get("/")
    request.user = type(user).objects.get(pk=user.pk)

    with django_assert_num_queries(1):
        initial = CommentForm.initial_for(request)
        html = comment_form_html(article, request=request)

    assert initial["notify_replies"] is True
    assert "Commenting as <strong>Ann Reader</strong>" in html
    assert '<input type="checkbox" name="notify_replies" id="id_notify_replies" checked>' in html


def test_a_fresh_form_without_remembered_cookies_is_empty():
    request = RequestFactory().get("/")
    parent = make_comment(make_article())

    initial = CommentForm.initial_for(request, parent=parent)

    assert initial == {"parent": parent.pk}


def test_the_email_help_text_says_it_stays_private():
    assert "Never shown publicly" in str(CommentForm().fields["email"].help_text)


@pytest.mark.parametrize("reason", ["spam", "abuse", "off_topic", "other"])
def test_every_report_reason_is_accepted(reason):
    assert ReportForm({"reason": reason}).is_valid()


def test_a_report_needs_a_reason():
    f = ReportForm({"detail": "No reason given"})

    assert not f.is_valid()
    assert f.errors["reason"] == ["Choose a reason."]


# comments/form_html.py writes the fields out; each must read as Django's own widget would.


def _rendered_form(form):
    return comment_form_html(make_article(), request=None, form=form, csrf_token="token")


def _widget(form, name):
    return str(form[name])


def _without_autofocus(html):
    """The form adds `autofocus` to the first field in error, which Django's widget lacks."""
    return html.replace(" autofocus>", ">")


def test_the_written_out_fields_match_djangos_widgets_on_a_fresh_form():
    form = CommentForm(initial={"parent": 7, "name": 'Ann "<b>"', "email": "a@example.org"})
    html = _rendered_form(form)

    for name in ("parent", "name", "email", "body", "website"):
        assert _widget(form, name) in html, name
    assert 'id="id_email_helptext">Never shown publicly.</p>' in html


def test_the_written_out_fields_match_djangos_widgets_with_errors():
    form = CommentForm(
        data={"name": "", "email": "not-an-address", "body": "<i>x</i>" * 800, "remember": "on"}
    )
    assert not form.is_valid()
    html = _without_autofocus(_rendered_form(form))

    for name in ("name", "email", "body", "remember"):
        assert _widget(form, name) in html, name
    assert 'aria-describedby="id_email_helptext id_email_error"' in html
    assert '<ul class="errorlist" id="id_body_error"><li>Keep your comment' in html
    assert html.count(" field-error") == 3


def test_a_refused_parent_is_cleared_and_named_in_the_errors():
    form = CommentForm(data={"name": "Ann", "email": "a@example.org", "body": "x", "parent": "x"})
    assert not form.is_valid()
    html = _rendered_form(form)

    assert '<div class="form-errors" role="alert">' in html
    assert '<ul class="errorlist" id="id_parent_error">' in html
    assert '<input type="hidden" name="parent" value="" id="id_parent">' in html


@pytest.mark.parametrize("field", ["name", "body"])
@pytest.mark.parametrize("char", ["\x01", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f"])
def test_control_characters_are_refused_in_names_and_bodies(field, char):
    f = form(make_article(), **{field: f"bad{char}text"})

    assert not f.is_valid()
    (error,) = f.errors.as_data()[field]
    assert error.code == "control_character"
    assert f"U+{ord(char):04X}" in error.message


def test_tabs_and_line_breaks_of_a_textarea_are_text():
    f = form(make_article(), name="Ada\tLovelace", body="one\r\ntwo\tcolumns")

    assert f.is_valid(), f.errors
    assert f.cleaned_data["name"] == "Ada Lovelace"


def test_forms_share_their_fields_but_not_the_list_of_them():
    first, second = CommentForm(), CommentForm({"body": "Hello"})
    assert first.fields["body"] is second.fields["body"]
    del first.fields["website"]
    assert "website" in second.fields and "website" in CommentForm().fields
    assert AccountCommentForm().fields["body"] is CommentForm.base_fields["body"]


def test_the_help_text_under_verify_stays_with_its_own_forms(settings):
    settings.COMMENTS_GUESTS = "verify"
    verifying = CommentForm()
    assert "We send a link" in verifying.fields["email"].help_text
    settings.COMMENTS_GUESTS = "open"
    assert CommentForm().fields["email"].help_text == "Never shown publicly."
    assert "We send a link" in verifying.fields["email"].help_text
