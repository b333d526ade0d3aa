import copy

from django import forms
from django.conf import settings
from django.core import signing
from django.template.defaultfilters import pluralize

from comments.decision_mail import published_mail_wanted
from comments.guests import VERIFY, guest_policy
from comments.identity import RESERVED_MESSAGE, display_name_clean, is_reserved
from comments.models import Comment, Commenter, ReplyMailPreference, Report
from comments.subscriptions import account_commenting, reply_mail_preference
from comments.text import CONTROL_CHARACTER

# Cookies that remember a guest's name and email for the next comment, when the guest asks.
# Each holds its value signed with django.core.signing, whose output is ASCII: a cookie header
# carries any name (Armenian, emoji...) and any email domain without a character a server
# refuses.
AUTHOR_COOKIE = "comment_author"
EMAIL_COOKIE = "comment_email"
REMEMBER_SALT = "comments.remember"
REMEMBER_MAX_AGE = 365 * 24 * 60 * 60

CONTROL_CHARACTER_MESSAGE = (
    "Remove the invisible control character (U+{code:04X}) from your text; it cannot be shown."
)

PARENT_GONE = (
    "The comment you are replying to is no longer available. "
    "Post again to publish your text as a new comment instead."
)


class CommentForm(forms.Form):
    name = forms.CharField(
        max_length=80,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"required": "Enter your name.", "max_length": "Use at most 80 characters."},
    )
    email = forms.EmailField(
        help_text="Never shown publicly.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={
            "required": "Enter your email address.",
            "invalid": "Enter a valid email address, such as name@example.com.",
        },
    )
    body = forms.CharField(
        label="Comment",
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=5000,
        error_messages={
            "required": "Write something before posting.",
            "max_length": "Keep your comment to 5,000 characters or fewer (it has %(show_value)d).",
        },
    )
    parent = forms.IntegerField(
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid": PARENT_GONE},
    )
    remember = forms.BooleanField(
        required=False,
        label="Save my name and email in this browser for the next time I comment.",
    )
    # Offered to the readers mail can reach: accounts, and guests with a verified address.
    notify_replies = forms.BooleanField(required=False, label="Email me when someone replies")
    # A trap for bots, hidden from people: a post that fills it in is dropped silently.
    website = forms.CharField(
        required=False,
        label="Leave this field empty",
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def __init__(self, *args, article=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.article = article
        if guest_policy() == VERIFY and "email" in self.fields:
            # The fields are shared by every form (SharedFields): this one's is a copy.
            email = copy.deepcopy(self.fields["email"])
            email.help_text = (
                "Never shown publicly. We send a link to this address to confirm your comment."
            )
            self.fields["email"] = email

    def clean_name(self) -> str:
        name = " ".join(_without_controls(self.cleaned_data["name"]).split())
        if is_reserved(name):
            raise forms.ValidationError(RESERVED_MESSAGE, code="reserved")
        return name

    def clean_body(self) -> str:
        return _without_controls(self.cleaned_data["body"])

    def clean_parent(self) -> int | None:
        parent_id = self.cleaned_data.get("parent")
        if parent_id is None:
            return None
        visible = Comment.objects.visible().filter(pk=parent_id, article=self.article)
        if self.article is None or not visible.exists():
            raise forms.ValidationError(PARENT_GONE, code="parent_unavailable")
        return parent_id

    def text_fields(self) -> list[forms.BoundField]:
        """The fields a person types into, in the order the form shows them: the comment first,
        then who writes it."""
        return [self["body"], self["name"], self["email"]]

    def is_trap_filled(self) -> bool:
        return bool(self.data.get("website", "").strip())

    @classmethod
    def initial_for(cls, request, *, parent: Comment | None = None) -> dict:
        """The initial values of a fresh form: the remembered name and email, if any."""
        initial = {"parent": parent.pk if parent else None}
        if request is None:
            return initial
        name = remembered_value(request, AUTHOR_COOKIE)
        email = remembered_value(request, EMAIL_COOKIE)
        if name or email:
            initial.update(name=name, email=email, remember=True)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            initial["notify_replies"] = account_commenting(user).subscribe_by_default
        return initial


class AccountCommentForm(CommentForm):
    """The comment form of a signed-in reader: the comment carries the account's name and
    email, so the form asks for neither."""

    name = None
    email = None
    remember = None

    def text_fields(self) -> list[forms.BoundField]:
        return [self["body"]]


class SharedFields(dict):
    """A form class's fields, shared by its forms rather than deep-copied into each, as Django's
    BaseForm does with `base_fields`.

    The comment form is made for every page a reader with something of their own sees (a
    remembered name, a pending comment, an account), and the copy was half of what making it
    cost. Nothing changes a field of these forms once it is made, neither rendering nor
    validation; a form that needs a field changed puts a copy of its own in its place.
    """

    def __deepcopy__(self, memo) -> dict:
        return dict(self)


for _form in (CommentForm, AccountCommentForm):
    _form.base_fields = SharedFields(_form.base_fields)


def _without_controls(value: str) -> str:
    """`value`, refused when it holds a control character (the importer refuses them too)."""
    if bad := CONTROL_CHARACTER.search(value):
        raise forms.ValidationError(
            CONTROL_CHARACTER_MESSAGE.format(code=ord(bad.group())), code="control_character"
        )
    return value


def remember_cookie_value(value: str) -> str:
    """A remembered value as a cookie holds it: signed, ASCII."""
    return signing.dumps(value, salt=REMEMBER_SALT)


def remembered_value(request, cookie: str) -> str:
    """The value a remember cookie holds; empty when it is missing, forged or old.

    Each cookie is read once per request, its signature checked once: the article page asks
    whether the reader is remembered (articles/page_cache.py), then fills the form with it.
    """
    read = request.__dict__.setdefault("_remembered_values", {})
    if cookie not in read:
        read[cookie] = _remembered(request.COOKIES.get(cookie, ""))
    return read[cookie]


def _remembered(signed: str) -> str:
    if not signed:
        return ""
    try:
        value = signing.loads(signed, salt=REMEMBER_SALT, max_age=REMEMBER_MAX_AGE)
    except signing.BadSignature:
        return ""
    return value if isinstance(value, str) else ""


class ReportForm(forms.Form):
    reason = forms.ChoiceField(
        choices=Report.Reason.choices,
        widget=forms.RadioSelect,
        label="Why should moderators look at this comment?",
        error_messages={"required": "Choose a reason."},
    )
    detail = forms.CharField(
        required=False,
        max_length=500,
        label="Anything moderators should know (optional)",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # A guest gives an address; a signed-in reader ticks a box for their account's (`user`).
    email = forms.EmailField(
        required=False,
        max_length=254,
        label="Email me when this is decided (optional)",
        help_text="Your address is used for that one mail, then deleted. It is never shown.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={"invalid": "Enter a valid email address, or leave this empty."},
    )
    notify = forms.BooleanField(required=False, label_suffix="")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.account_email = ""
        if user is not None and user.is_authenticated and user.email:
            self.account_email = user.email
            del self.fields["email"]
            self.fields["notify"].label = f"Email me at {user.email} when this is decided"
        else:
            del self.fields["notify"]

    def reporter_email(self) -> str:
        """The address to thank once the report is decided, or ""."""
        if self.account_email:
            return self.account_email if self.cleaned_data.get("notify") else ""
        return self.cleaned_data.get("email", "")


class CommenterSettingsForm(forms.ModelForm):
    """A reader's own settings: the name shown on their comments, and their public profile."""

    class Meta:
        model = Commenter
        fields = ["display_name", "profile_public"]
        labels = {"profile_public": "Show my public profile page with my comments"}
        help_texts = {
            "display_name": "Shown with your comments.",
            "profile_public": "Your name on your comments links to it.",
        }

    subscribe_by_default = forms.BooleanField(
        required=False,
        label="Tick “Email me when someone replies” on my new comments",
    )
    reply_mail_frequency = forms.ChoiceField(
        choices=ReplyMailPreference.Frequency.choices,
        widget=forms.RadioSelect,
        label="Mail about replies",
        required=False,
    )

    published_mail = forms.BooleanField(
        required=False,
        label="Email me when a moderator publishes a comment of mine that was held for review",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["published_mail"].initial = published_mail_wanted(self.instance)
        preference = reply_mail_preference(self.instance)
        self.fields["subscribe_by_default"].initial = preference.subscribe_by_default
        self.fields["reply_mail_frequency"].initial = preference.frequency
        self.fields["reply_mail_frequency"].choices = [
            (ReplyMailPreference.Frequency.BATCHED, _batched_label()),
            (ReplyMailPreference.Frequency.DAILY, "One daily digest of the replies to my comments"),
        ]

    def clean_display_name(self) -> str:
        return display_name_clean(self.cleaned_data["display_name"], user=self.instance.user)

    def clean_reply_mail_frequency(self) -> str:
        # A form posted without the choice keeps the current one.
        return (
            self.cleaned_data["reply_mail_frequency"]
            or self.fields["reply_mail_frequency"].initial
        )


def _batched_label() -> str:
    minutes = settings.NOTIFY_BATCH_MINUTES
    if not minutes:
        return "A mail for each reply"
    return f"A mail for each thread, at most one every {minutes} minute{pluralize(minutes)}"


class GuestAddressForm(forms.Form):
    """A guest's address, to mail a link to (the link proves the address is theirs)."""

    email = forms.EmailField(
        label="Your email address",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={
            "required": "Enter your email address.",
            "invalid": "Enter a valid email address, such as name@example.com.",
        },
    )


class DataRequestForm(GuestAddressForm):
    """A guest's request for the link to their data, mailed to an address they confirmed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].help_text = "The address you confirmed when you commented."


class CommentEditForm(forms.Form):
    """A comment's new text, under the same rules as a new comment's."""

    body = CommentForm.base_fields["body"]

    def clean_body(self) -> str:
        return _without_controls(self.cleaned_data["body"])


class EraseAccountForm(forms.Form):
    """The confirmation step of an account's erasure: its password again."""

    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": "Enter your password to confirm."},
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(
                "That is not your password. Nothing was erased.", code="wrong_password"
            )
        return password


class EraseRequestForm(GuestAddressForm):
    """A guest's address, to mail the erase link to."""
