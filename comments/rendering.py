"""The HTML of the discussion, and of one comment's body and date wherever a comment shows.

The discussion's markup is written here rather than in a template: the template engine costs
about 0.1 ms per comment even for a bare loop (it resolves and localizes every variable), ten
times this code, and one page may show thousands of comments. The class names, ids and data
attributes are the contract with static/js/comments.js and static/css/comments.css. The reply
and report pages show a comment's body and date through the same functions (the template tags
of comments/templatetags/comment_tags.py), and so do the feeds.
"""

import html
from datetime import datetime

from django.conf import settings
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime

from comments.layout import NARROW_DEPTH, CommentItem
from comments.models import REMOVAL_REASON_SHORT
from comments.text import body_markup

# Stands for a comment's id in a link reversed once per page (see comment_links()).
PK_PLACEHOLDER = "2147483647"
# Stands for a commenter's handle in the profile link, reversed once per page.
PROFILE_PLACEHOLDER = "handle-placeholder"

REMOVED_HTML = (
    '<article class="comment comment--removed" id="comment-{key}" data-comment-id="{key}">'
    '<p class="comment-body">{text}</p></article>'
)
COMMENT_HTML = (
    '<article class="comment{modifier}" id="comment-{key}" data-comment-id="{key}">'
    '<header class="comment-header"><span class="comment-author">{author}</span>{badge}'
    "{created}{in_reply_to}{status}</header>"
    '<div class="comment-body">{body}</div>{actions}</article>'
)
# One date format on every page: "1 Dec 2026, 20:17" in the site's time zone, and a
# `datetime` attribute HTML accepts (whole seconds: it allows at most three decimals).
CREATED_HTML = '<time datetime="{iso}">{text}</time>'
IN_REPLY_TO_HTML = (
    '<span class="comment-in-reply-to{modifier}">in reply to '
    '<a href="#comment-{parent}">{author}</a></span>'
)
# An account's name links to its public profile (the handle is a slug: nothing to escape).
PROFILE_LINK_HTML = '<a class="comment-author-link" href="{url}">{author}</a>'
BADGE_HTML = '<span class="comment-badge">{badge}</span>'
PENDING_HTML = '<strong class="comment-status">awaiting moderation</strong>'
ACTIONS_HTML = (
    '<p class="comment-actions">'
    '<a class="comment-permalink" href="#comment-{key}">'
    'Link<span class="visually-hidden"> to this comment</span></a>'
    "{reply}"
    '<a class="report-link" href="{report}">Report</a></p>'
)
# data-author names the comment in the inline reply form's label (static/js/comments.js).
REPLY_HTML = (
    '<a class="reply-link" data-comment-id="{key}" href="{url}" data-author="{author}">Reply</a>'
)
# A thread collapses without JavaScript; the summary's verb follows the state through CSS,
# and screen readers hear the count with the element's own expanded or collapsed state.
REPLIES_OPEN_HTML = (
    '<details class="replies" open><summary>'
    '<span class="replies-hide" aria-hidden="true">Hide </span>'
    '<span class="replies-show" aria-hidden="true">Show </span>{count} {noun}</summary>'
    '<ol class="comment-thread">'
)
REPLIES_CLOSE_HTML = "</ol></details></li>"
# Closes a thread cut by layout.replies_cut(): the link opens the thread's own page, and
# static/js/more-replies.js loads the thread from data-fragment in its place.
MORE_REPLIES_CLOSE_HTML = (
    '</ol><p class="more-replies"><a class="more-replies-link" href="{url}" '
    'data-fragment="{url}replies/" data-thread-id="{key}">Show {count} more {noun}</a></p>'
    "</details></li>"
)


def removed_text(reason: str) -> str:
    """What stands for a removed comment: "[removed]", or with COMMENTS_SHOW_REMOVAL_REASONS
    the moderator's reason in a few words ("Removed by a moderator: personal attack")."""
    short = REMOVAL_REASON_SHORT.get(reason)
    if short and settings.COMMENTS_SHOW_REMOVAL_REASONS:
        return f"Removed by a moderator: {short}"
    return "[removed]"


def created_html(created: datetime | None) -> SafeString:
    """A comment's date as a <time> element, or nothing for a comment without one."""
    return mark_safe(_created_markup(created))  # noqa: S308 (digits and month names only)


def _created_markup(created: datetime | None) -> str:
    if created is None:
        return ""
    local = localtime(created)
    return CREATED_HTML.format(
        iso=local.isoformat(timespec="seconds"), text=f"{local.day} {local:%b %Y, %H:%M}"
    )


def discussion_html(items: list[CommentItem], *, article) -> SafeString:
    """The nested lists of the laid-out `items` of `article`, one `<li>` per comment."""
    if not items:
        return mark_safe("")
    links = comment_links(article)
    reply_url, report_url = links["reply_url"], links["report_url"]
    profile_url = reverse("comments:profile", kwargs={"handle": PROFILE_PLACEHOLDER})
    thread_url = reverse(
        "articles:thread", kwargs={"slug": article.slug, "pk": int(PK_PLACEHOLDER)}
    )
    parts = ['<ol class="comment-thread">']
    root = items[0]
    for item in items:
        if item.level == 0:
            root = item
        parts.append('<li class="comment-item">')
        parts.append(_comment_html(item, reply_url, report_url, profile_url))
        if item.opens:
            count = item.reply_count + item.hidden_replies
            parts.append(
                REPLIES_OPEN_HTML.format(count=count, noun="reply" if count == 1 else "replies")
            )
        else:
            parts.append("</li>")
        if root.hidden_replies and item.closes and item.closes == item.depth:
            # The last reply shown of a cut thread: its closing lists end with the thread's.
            parts.append(REPLIES_CLOSE_HTML * (item.closes - 1))
            key = str(root.pk)
            hidden = root.hidden_replies
            parts.append(
                MORE_REPLIES_CLOSE_HTML.format(
                    url=_with_pk(thread_url, key),
                    key=key,
                    count=hidden,
                    noun="reply" if hidden == 1 else "replies",
                )
            )
            continue
        parts.append(REPLIES_CLOSE_HTML * item.closes)
    parts.append("</ol>")
    return mark_safe("\n".join(parts))  # noqa: S308 (authors' text is escaped in _comment_html)


def comment_links(article) -> dict[str, str | None]:
    """The reply and report links of the article's comments, with PK_PLACEHOLDER for the id;
    the reply link is None when the discussion is closed."""
    kwargs = {"slug": article.slug, "pk": int(PK_PLACEHOLDER)}
    return {
        "reply_url": (
            reverse("comments:reply", kwargs=kwargs) if article.discussion_open() else None
        ),
        "report_url": reverse("comments:report", kwargs=kwargs),
    }


def _comment_html(
    item: CommentItem, reply_url: str | None, report_url: str, profile_url: str
) -> str:
    key = str(item.pk)
    if item.removed:
        return REMOVED_HTML.format(key=key, text=removed_text(item.removal_reason))
    author = html.escape(item.author)
    shown_author = author
    if item.profile:
        shown_author = PROFILE_LINK_HTML.format(
            url=profile_url.replace(PROFILE_PLACEHOLDER, item.profile), author=author
        )
    in_reply_to = ""
    if item.level > NARROW_DEPTH:
        in_reply_to = IN_REPLY_TO_HTML.format(
            modifier="" if item.flattened else " comment-in-reply-to--narrow",
            parent=item.parent_id,
            author=html.escape(item.parent_author),
        )
    actions = ""
    if not item.pending:
        reply = ""
        # The links come from reverse() on slug and int converters: nothing to escape.
        if reply_url is not None:
            reply = REPLY_HTML.format(key=key, author=author, url=_with_pk(reply_url, key))
        actions = ACTIONS_HTML.format(key=key, reply=reply, report=_with_pk(report_url, key))
    return COMMENT_HTML.format(
        modifier=" comment--pending" if item.pending else "",
        key=key,
        author=shown_author,
        badge=BADGE_HTML.format(badge=html.escape(item.badge)) if item.badge else "",
        created=_created_markup(item.created),
        in_reply_to=in_reply_to,
        status=PENDING_HTML if item.pending else "",
        body=body_markup(item.body),
        actions=actions,
    )


def _with_pk(url: str, key: str) -> str:
    # The id is the last number in these paths; the slug before it may hold any digits.
    head, _, tail = url.rpartition(PK_PLACEHOLDER)
    return f"{head}{key}{tail}"
