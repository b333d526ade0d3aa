"""The HTML of the comment form, a new comment's or a reply's, written here rather than in a
template.

On the article page the form is most of what is rendered for a reader with something of their
own (a remembered name, a comment awaiting moderation, an account): the rest of the page is a
shared copy (articles/page_cache.py). Through the template engine, which resolves and localizes
each of the form's sixty-odd variables, it cost about 0.6 ms of CPU on the benchmark's machine,
more than the rest of that reader's own parts; written here, about 0.2 ms (README, "Speed and
scale").

The names, ids, limits and ARIA attributes are those Django's widgets write (the tests compare
them with the widgets' own output), and static/js/comments.js relies on the ids and on
aria-describedby. The form's own fields give the labels, limits and help text; values are
escaped as the template engine escapes them (conditional_escape: text marked safe stays as it
is). On the article page the new-comment form is the composer, "Join the discussion": the
script folds it to its text box until the reader focuses it (the classes
comment-form-identity and comment-form-actions mark what folds); without the script every field
shows. A held comment's confirmation shows here, at the form, for the reader who posted it.
"""

import html

from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from comments.feedback import FORM_FEEDBACK
from comments.forms import CommentForm
from comments.guests import CLOSED, guest_policy, is_verified_here, sign_in_url
from comments.subscriptions import account_commenting

SIGN_IN_HTML = (
    '<p class="comment-form-signin">Only readers with an account can comment. '
    '<a href="{sign_in}">Sign in</a> or <a href="{sign_up}">create an account</a> to join the '
    "discussion.</p>\n"
)
CLOSED_HTML = '<p class="discussion-closed">Comments are closed on this article.</p>\n'
COMPOSER_ATTRIBUTES = ' id="comment-form" aria-labelledby="comment-form-heading"'
COMPOSER_HEADING_HTML = (
    '  <h3 class="comment-form-heading" id="comment-form-heading">Join the discussion</h3>\n'
)
FEEDBACK_HTML = (
    '<p class="comment-form-feedback message message--{level}" role="status" tabindex="-1">'
    "{text}</p>"
)
# As {% csrf_token %} writes it, and nothing for Django's stand-in for no token.
NO_CSRF_TOKEN = "NOTPROVIDED"  # noqa: S105 (not a secret)
CSRF_HTML = '  <input type="hidden" name="csrfmiddlewaretoken" value="{token}">\n'
ACCOUNT_HTML = (
    '  <p class="comment-form-account comment-form-identity">Commenting as <strong>{name}'
    '</strong>. <a href="{settings}">Your account</a> · <button class="comment-form-signout" '
    'type="submit" form="site-signout">Sign out</button></p>\n'
)
PARENT_HTML = '  <input type="hidden" name="parent" value="{value}" id="id_parent">\n'
CHECKBOX_HTML = (
    '  <div class="field field-checkbox{identity}">\n'
    '    <input type="checkbox" name="{name}" id="id_{name}"{checked}> '
    '<label for="id_{name}">{label}</label>\n'
    "  </div>\n"
)
# A trap for bots, hidden from people (CommentForm.website).
TRAP_HTML = (
    '  <div class="comment-form-trap" hidden aria-hidden="true">\n'
    '    <label for="id_website">{label}:</label> <input type="text" name="website" '
    'tabindex="-1" autocomplete="off" id="id_website">\n'
    "  </div>\n"
)
ACTIONS_HTML = (
    '  <div class="comment-form-actions">\n'
    '    <button type="submit">{action}</button>\n'
    "  </div>\n"
    "</form>\n"
)


def comment_form_html(
    article, *, request, form=None, parent=None, messages=(), csrf_token=None
) -> SafeString:
    """The form for a new comment, or a reply to `parent`, on `article`, for `request`'s reader.

    A fresh form starts with the name and email the reader asked this browser to remember; a
    fresh form for a new thread is the article's composer. A form with errors puts the focus
    on its first field in error, and the `messages` tagged FORM_FEEDBACK (a held comment's
    confirmation) show in the form. Under COMMENTS_GUESTS=closed a guest is invited to sign in
    instead.

    "Email me when someone replies" is offered to the readers mail can reach: accounts, and a
    guest whose address in the form (remembered, or typed before an error) this browser has
    confirmed. Such a form is the guest's own: the shared page copy never holds one, since a
    reader with a remembered address is not a plain reader (articles/page_cache.py).
    """
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    if not article.discussion_open():
        return mark_safe(CLOSED_HTML)  # noqa: S308 (a constant)
    if guest_policy() == CLOSED and not signed_in:
        return mark_safe(  # noqa: S308 (escaped)
            SIGN_IN_HTML.format(
                sign_in=_text(sign_in_url(article, parent=parent)),
                sign_up=_text(reverse("account_signup")),
            )
        )
    composer = form is None and parent is None
    if form is None:
        form = CommentForm(initial=CommentForm.initial_for(request, parent=parent))
    action = _text(reverse("comments:post", args=[article.slug]))
    parts = [
        f'<form class="comment-form{" comment-composer" if composer else ""}" method="post" '
        f'action="{action}"{COMPOSER_ATTRIBUTES if composer else ""}>\n'
    ]
    if composer:
        parts.append(COMPOSER_HEADING_HTML)
    feedback = "".join(
        FEEDBACK_HTML.format(level=_text(message.level_tag), text=_text(str(message)))
        for message in messages
        if message.extra_tags == FORM_FEEDBACK
    )
    if feedback:
        parts.append(f"  {feedback}\n")
    if csrf_token and csrf_token != NO_CSRF_TOKEN:
        parts.append(CSRF_HTML.format(token=_text(csrf_token)))
    parts.append(_errors_markup(form))
    if signed_in:
        parts.append(ACCOUNT_HTML.format(name=_text(_account_name(user)), settings=_url_settings()))
    parent_field = form["parent"]
    parent_value = "" if parent_field.errors else _value(parent_field.value())
    parts.append(PARENT_HTML.format(value=parent_value))
    fields = [field for field in form.text_fields() if field.name == "body" or not signed_in]
    first_error = _first_error(form)
    parts += [_text_field_markup(field, first_error) for field in fields]
    if not signed_in:
        parts.append(_checkbox_markup(form, "remember", identity=True))
    if signed_in or _guest_email_verified(request, form):
        parts.append(_checkbox_markup(form, "notify_replies", identity=False))
    parts.append(TRAP_HTML.format(label=_label(form, "website")))
    parts.append(ACTIONS_HTML.format(action="Post reply" if parent else "Post comment"))
    return mark_safe("".join(parts))  # noqa: S308 (every value above is escaped)


def _text(value) -> str:
    """A value as the template engine writes it: text, escaped unless marked safe (what
    conditional_escape does, without making a SafeString of each value)."""
    if not isinstance(value, str):
        value = str(value)
    return value.__html__() if hasattr(value, "__html__") else html.escape(value)


def _value(value) -> str:
    """A field's value as `{{ value|default_if_none:'' }}` writes it."""
    return "" if value is None else _text(value)


def _url_settings() -> str:
    return _text(reverse("comments:settings"))


def _account_name(user) -> str:
    return account_commenting(user).display_name or user.get_full_name() or user.get_username()


def _first_error(form) -> str | None:
    """The field a form with errors puts the focus on: its first text field in error, else the
    comment."""
    if not form.errors:
        return None
    fields = [field for field in form.text_fields() if field.errors] or [form["body"]]
    return fields[0].name


def _errors_markup(form) -> str:
    """The errors that belong to no field the reader sees: the form's own, and the parent's."""
    general = form.non_field_errors()
    parent = form["parent"].errors
    if not (general or parent):
        return ""
    parts = ['  <div class="form-errors" role="alert">\n']
    if general:
        parts.append(f'    <ul class="errorlist nonfield">{_items(general)}</ul>\n')
    if parent:
        parts.append(f'    <ul class="errorlist" id="id_parent_error">{_items(parent)}</ul>\n')
    parts.append("  </div>\n")
    return "".join(parts)


def _items(errors) -> str:
    return "".join(f"<li>{_text(error)}</li>" for error in errors)


def _text_field_markup(field, first_error: str | None) -> str:
    """A field a person types into, as Django's TextInput, EmailInput or Textarea writes it,
    with its label, errors and help text."""
    name, errors, id_ = field.name, field.errors, field.auto_id
    widget = field.field.widget
    classes = f"field field-{name}"
    if name != "body":
        classes += " comment-form-identity"
    if errors:
        classes += " field-error"
    parts = [
        f'  <div class="{classes}">\n',
        f'    <label for="{id_}">{_text(field.label)}:</label>\n',
    ]
    if errors:
        parts.append(f'    <ul class="errorlist" id="{id_}_error">{_items(errors)}</ul>\n')
    value = field.value()
    if name == "body":
        cols, rows = _text(widget.attrs["cols"]), _text(widget.attrs["rows"])
        tag = f'<textarea name="body" cols="{cols}" rows="{rows}"'
    else:
        shown = f' value="{_text(value)}"' if value else ""
        tag = (
            f'<input type="{widget.input_type}" name="{name}"{shown} '
            f'autocomplete="{_text(widget.attrs["autocomplete"])}"'
        )
    tag += f' maxlength="{_text(field.field.max_length)}"'
    if field.field.required:
        tag += " required"
    if errors:
        tag += ' aria-invalid="true"'
    described_by = [f"{id_}_helptext"] if field.help_text else []
    if errors:
        described_by.append(f"{id_}_error")
    if described_by:
        tag += f' aria-describedby="{" ".join(described_by)}"'
    tag += f' id="{id_}"'
    if name == first_error:
        tag += " autofocus"
    tag += ">"
    if name == "body":
        tag += f"\n{_value(value)}</textarea>"
    parts.append(f"    {tag}\n")
    if field.help_text:
        parts.append(f'    <p class="helptext" id="{id_}_helptext">{_text(field.help_text)}</p>\n')
    parts.append("  </div>\n")
    return "".join(parts)


def _checkbox_markup(form, name: str, *, identity: bool) -> str:
    checked = name in form.fields and form[name].value()
    return CHECKBOX_HTML.format(
        identity=" comment-form-identity" if identity else "",
        name=name,
        checked=" checked" if checked else "",
        label=_label(form, name),
    )


def _label(form, name: str) -> str:
    return _text(form[name].label) if name in form.fields else ""


def _guest_email_verified(request, form) -> bool:
    if request is None:
        return False
    email = form["email"].value() if "email" in form.fields else None
    return bool(email) and isinstance(email, str) and is_verified_here(request, email)
