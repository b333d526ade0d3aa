"""Admin inlines that comments lends to the commented model's admin page (articles/admin.py
attaches them): comments knows that model only by its string reference."""

from django.contrib import admin

from comments.models import WatchPhrase


class WatchPhraseInline(admin.TabularInline):
    """The article's watch phrases: new comments on it that contain one are held for review,
    with the phrase as the reason, matched as the banned phrases are (whole words, any case,
    look-alike letters)."""

    model = WatchPhrase
    fields = ["phrase", "note"]
    extra = 1
    verbose_name = "watch phrase"
    verbose_name_plural = "watch phrases (comments containing one are held for review)"
