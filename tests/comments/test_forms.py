import pytest
from django.test import RequestFactory

from comments.forms import CommentForm, ReportForm
from tests.factories import make_article, make_comment

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
