"""Where the confirmation of a reader's action shows: at the comment acted on, or at the form.

The confirmations are Django messages, so they belong to the reader's session and a page that
has one is rendered for that reader, never served from or stored in a shared copy
(articles/page_cache.py). A message's extra_tags say where it belongs:

- FORM_FEEDBACK: at the comment form (a comment held for moderation, which is not in the
  discussion), written there by the comment_form template tag and left out of the page's list
  of messages (templates/base.html);
- "posted:<id>", "reported:<id>" and "recommended:<id>": at that comment. The discussion is
  a cached fragment the same for everyone, so the page lists these messages with a
  `data-feedback` attribute and static/js/comments.js moves each into its comment ("Reported
  — thank you" in place of the Report link). Without the script they show at the top of the page.
"""

FORM_FEEDBACK = "comment-form"


def posted_tag(pk: int) -> str:
    return f"posted:{pk}"


def reported_tag(pk: int) -> str:
    return f"reported:{pk}"


def recommended_tag(pk: int) -> str:
    return f"recommended:{pk}"
