"""The forms of the moderators' dialogs in the admin: a decision's reason, a block, a comment."""

from datetime import timedelta

from django import forms

from comments.models import Comment, Decision
from comments.services import PICK_NOTE_MAX_LENGTH, REMOVING, BlockTarget

NOTE_HELP = "For the moderators only; never shown to readers."


class DecisionForm(forms.Form):
    """Why the selected comments are removed or marked as spam."""

    reason = forms.ChoiceField(
        choices=Decision.Reason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the reason for this decision."},
    )
    note = forms.CharField(
        required=False,
        max_length=Decision._meta.get_field("note").max_length,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=NOTE_HELP,
    )


class PickForm(forms.Form):
    """The public note shown with the selected editors' picks."""

    note = forms.CharField(
        label="Note shown with the pick",
        required=False,
        max_length=PICK_NOTE_MAX_LENGTH,
        widget=forms.TextInput(attrs={"size": 60}),
        help_text="Optional, public: e.g. “A reader with first-hand knowledge”.",
    )


# How long a block lasts; "permanent" has no end.
DURATIONS = {
    "24h": ("24 hours", timedelta(hours=24)),
    "7d": ("7 days", timedelta(days=7)),
    "30d": ("30 days", timedelta(days=30)),
    "permanent": ("Permanently", None),
}


class BlockForm(forms.Form):
    """The block dialog: what to block, for how long, and what happens to the comments."""

    targets = forms.MultipleChoiceField(
        label="Block",
        choices=BlockTarget.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[BlockTarget.EMAIL, BlockTarget.IP],
        error_messages={"required": "Choose at least one thing to block."},
        help_text="An account is suspended for the time chosen, or banned for good.",
    )
    duration = forms.ChoiceField(
        label="For",
        choices=[(key, label) for key, (label, _) in DURATIONS.items()],
        widget=forms.RadioSelect,
        initial="7d",
    )
    remove_published = forms.BooleanField(
        label="Also remove the authors’ published comments",
        required=False,
        help_text="Their comments awaiting moderation are removed in any case.",
    )
    reason = forms.ChoiceField(
        label="Reason for the removals",
        choices=Decision.Reason.choices,
        initial=Decision.Reason.ABUSIVE,
    )
    note = forms.CharField(
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Kept with the block and the account’s status; never shown to readers.",
    )

    def clean_duration(self) -> timedelta | None:
        return DURATIONS[self.cleaned_data["duration"]][1]


class CommentAdminForm(forms.ModelForm):
    """A comment's status with the reason a removal needs, and a note for the history."""

    decision_note = forms.CharField(
        label="Note on this decision",
        required=False,
        max_length=Decision._meta.get_field("note").max_length,
        help_text=NOTE_HELP,
    )

    class Meta:
        model = Comment
        fields = ["status", "removal_reason", "body", "featured", "featured_note"]

    def clean(self):
        cleaned = super().clean()
        status = cleaned.get("status")
        if status in REMOVING and not cleaned.get("removal_reason"):
            self.add_error(
                "removal_reason",
                forms.ValidationError(
                    "Choose why the comment is removed or marked as spam.", code="required"
                ),
            )
        elif status and status not in REMOVING:
            cleaned["removal_reason"] = ""
        if cleaned.get("featured") and status != Comment.Status.PUBLISHED:
            self.add_error(
                "featured",
                forms.ValidationError(
                    "Only a published comment can be an editors’ pick.", code="not_published"
                ),
            )
        return cleaned
