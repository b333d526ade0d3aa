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
from django.utils.html import linebreaks
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
    '<article class="comment comment--removed" id="comment-{key}" data-comment-id="{key}" '
    'aria-label="{label}"><p class="comment-body">{text}</p></article>'
)
# Screen readers name each comment by its author, so a list of articles reads as a list of
# voices rather than of "article" landmarks.
COMMENT_HTML = (
    '<article class="comment{modifier}" id="comment-{key}" data-comment-id="{key}" '
    'aria-label="Comment by {author}">'
    '<header class="comment-header"><span class="comment-author">{shown_author}</span>{badges}'
    "{created}{edited}{in_reply_to}{status}</header>{pick_note}"
    '<div class="comment-body{fold}">{body}</div>{more}{actions}</article>'
)
# One date format on every page: "1 Dec 2026, 20:17" in the site's time zone, the full date
# with the zone's name on hover, and a `datetime` attribute HTML accepts (whole seconds: it
# allows at most three decimals). The text is absolute on purpose: a page stays in the cache
# for up to ARTICLE_PAGE_CACHE_SECONDS, and "2 minutes ago" would be wrong long before it
# expired. static/js/comments.js turns the dates of comments into "2 hours ago" in the reader's
# browser, from `datetime`, and keeps them current.
CREATED_HTML = '<time datetime="{iso}" title="{title}">{text}</time>'
# An edited comment says so after its date, with the time of its author's last edit.
EDITED_HTML = '<span class="comment-edited">edited {time}</span>'
DELETED_TEXT = "[deleted by its author]"
IN_REPLY_TO_HTML = (
    '<span class="comment-in-reply-to{modifier}">in reply to '
    '<a href="#comment-{parent}">{author}</a></span>'
)
# An account's name links to its public profile (the handle is a slug: nothing to escape).
PROFILE_LINK_HTML = '<a class="comment-author-link" href="{url}">{author}</a>'
# Badges follow the author's name: a staff member's title, and others told apart by a modifier
# class (comment-badge--pick in the stylesheet).
BADGE_HTML = '<span class="comment-badge{modifier}">{text}</span>'
PENDING_HTML = '<strong class="comment-status">awaiting moderation</strong>'
# What a moderator reads on a hidden comment shown to them in place.
MODERATION_STATUS_HTML = (
    '<strong class="comment-status comment-status--moderation">{text}</strong>'
)
# A reader's own comments awaiting moderation, above the discussion, for them alone.
OWN_PENDING_HTML = (
    '<section class="own-pending" aria-labelledby="own-pending-heading">\n'
    '    <h3 id="own-pending-heading">Your comments awaiting moderation</h3>\n'
    '    <ol class="comment-thread">\n{items}    </ol>\n'
    "  </section>"
)
OWN_PENDING_ITEM_HTML = (
    '      <li class="comment-item"><article class="comment comment--pending" id="comment-{key}" '
    'data-comment-id="{key}" aria-label="Comment by {author}"><header class="comment-header">'
    '<span class="comment-author">{author}</span>{in_reply_to} {status}</header>'
    '<div class="comment-body">{body}</div></article></li>\n'
)
OWN_PENDING_IN_REPLY_TO_HTML = (
    ' <span class="comment-in-reply-to">in reply to <a href="#comment-{parent}">a comment</a>'
    "</span>"
)
PICK_BADGE = "Editors’ pick"
PICK_NOTE_HTML = '<p class="comment-pick-note">{note}</p>'
# A comment longer than about twelve lines folds: the stylesheet cuts the body short while the
# <details> after it is closed, so "Read more" works without JavaScript.
FOLD_CHARACTERS = 900
FOLD_LINES = 12
MORE_HTML = (
    '<details class="comment-more"><summary>'
    '<span class="comment-more-show">Read more</span>'
    '<span class="comment-more-hide">Show less</span>'
    '<span class="visually-hidden"> of {possessive} comment</span></summary></details>'
)
# Each action names whose comment it acts on for screen readers ("Reply to Ararat"); the
# visible words stay short. "Share" is the comment's stable link, whatever the page and order
# (static/js/comments.js copies it instead of following it).
ACTIONS_HTML = (
    '<div class="comment-actions">'
    "{recommend}{reply}"
    '<a class="share-link" href="{share}" data-author="{author}">'
    'Share<span class="visually-hidden"> {possessive} comment</span></a>'
    '<a class="report-link" href="{report}" data-author="{author}">'
    'Report<span class="visually-hidden"> {possessive} comment</span></a></div>'
)
# "Recommend" is a button in a GET form: without JavaScript it opens the comment's recommend
# page, whose POST form carries the reader's CSRF token (the discussion is shared by every
# reader and holds none). static/js/recommend.js posts it in place instead and sets
# aria-pressed from the reader's own recommendations, which no shared copy holds.
RECOMMEND_HTML = (
    '<form class="recommend-form" method="get" action="{url}">'
    '<button type="submit" class="recommend-button" data-comment-id="{key}">'
    'Recommend<span class="visually-hidden"> {possessive} comment</span></button>'
    '<span class="recommend-count" data-count="{count}">{count_text}</span></form>'
)
# data-author names the comment in the inline reply form (static/js/comments.js).
REPLY_HTML = (
    '<a class="reply-link" data-comment-id="{key}" href="{url}" data-author="{author}">'
    'Reply<span class="visually-hidden"> to {author}</span></a>'
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
    # One strftime for both texts: a page may show thousands of dates.
    full, short = local.strftime("%A|%B %Y, %H:%M %Z|%b %Y, %H:%M").rsplit("|", 1)
    weekday, month = full.split("|")
    return CREATED_HTML.format(
        iso=local.isoformat(timespec="seconds"),
        title=f"{weekday} {local.day} {month}",
        text=f"{local.day} {short}",
    )


def own_pending_html(comments) -> SafeString:
    """The block of the reader's own comments awaiting moderation (rows of
    selectors.own_pending_comments), their bodies as plain paragraphs; nothing without any."""
    if not comments:
        return mark_safe("")
    items = "".join(
        OWN_PENDING_ITEM_HTML.format(
            key=comment.pk,
            author=html.escape(comment.author_name),
            in_reply_to=(
                OWN_PENDING_IN_REPLY_TO_HTML.format(parent=comment.parent_id)
                if comment.parent_id
                else ""
            ),
            status=PENDING_HTML,
            body=linebreaks(comment.body, autoescape=True),
        )
        for comment in comments
    )
    return mark_safe(OWN_PENDING_HTML.format(items=items))  # noqa: S308 (escaped above)


def discussion_html(items: list[CommentItem], *, article) -> SafeString:
    """The nested lists of the laid-out `items` of `article`, one `<li>` per comment."""
    if not items:
        return mark_safe("")
    links = comment_links(article)
    links["profile_url"] = reverse("comments:profile", kwargs={"handle": PROFILE_PLACEHOLDER})
    thread_url = reverse(
        "articles:thread", kwargs={"slug": article.slug, "pk": int(PK_PLACEHOLDER)}
    )
    parts = ['<ol class="comment-thread">']
    root = items[0]
    for item in items:
        if item.level == 0:
            root = item
        parts.append('<li class="comment-item">')
        parts.append(_comment_html(item, links))
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
    """The reply, report and stable (share) links of the article's comments, with
    PK_PLACEHOLDER for the id; the reply link is None when the discussion is closed."""
    kwargs = {"slug": article.slug, "pk": int(PK_PLACEHOLDER)}
    return {
        "reply_url": (
            reverse("comments:reply", kwargs=kwargs) if article.discussion_open() else None
        ),
        "report_url": reverse("comments:report", kwargs=kwargs),
        "share_url": reverse("articles:comment_permalink", kwargs=kwargs),
        "recommend_url": reverse("comments:recommend", kwargs=kwargs),
    }


def recommend_count_text(count: int) -> str:
    """What a comment's count says: nothing at 0, "1" or "12" with the noun for screen
    readers (static/js/recommend.js writes the same)."""
    if not count:
        return ""
    noun = "recommendation" if count == 1 else "recommendations"
    return f'{count}<span class="visually-hidden"> {noun}</span>'


def _comment_html(item: CommentItem, links: dict[str, str | None]) -> str:
    key = str(item.pk)
    if item.removed:
        text = DELETED_TEXT if item.deleted else removed_text(item.removal_reason)
        label = "Deleted comment" if item.deleted else "Removed comment"
        return REMOVED_HTML.format(key=key, text=text, label=label)
    author = html.escape(item.author)
    possessive = f"{author}’s"
    shown_author = author
    if item.profile:
        shown_author = PROFILE_LINK_HTML.format(
            url=links["profile_url"].replace(PROFILE_PLACEHOLDER, item.profile), author=author
        )
    in_reply_to = ""
    if item.level > NARROW_DEPTH:
        in_reply_to = IN_REPLY_TO_HTML.format(
            modifier="" if item.flattened else " comment-in-reply-to--narrow",
            parent=item.parent_id,
            author=html.escape(item.parent_author),
        )
    actions = ""
    if not (item.pending or item.moderation_status):
        reply = ""
        reply_url = links["reply_url"]
        # The links come from reverse() on slug and int converters: nothing to escape.
        if reply_url is not None:
            reply = REPLY_HTML.format(key=key, author=author, url=_with_pk(reply_url, key))
        recommend = RECOMMEND_HTML.format(
            url=_with_pk(links["recommend_url"], key),
            key=key,
            possessive=possessive,
            count=item.recommends,
            count_text=recommend_count_text(item.recommends),
        )
        actions = ACTIONS_HTML.format(
            recommend=recommend,
            reply=reply,
            share=_with_pk(links["share_url"], key),
            report=_with_pk(links["report_url"], key),
            author=author,
            possessive=possessive,
        )
    body = item.body
    folds = len(body) > FOLD_CHARACTERS or body.count("\n") >= FOLD_LINES
    status = PENDING_HTML if item.pending else ""
    modifier = " comment--pending" if item.pending else ""
    if item.moderation_status:
        status = MODERATION_STATUS_HTML.format(text=html.escape(item.moderation_status))
        modifier = " comment--hidden"
    elif item.featured:
        modifier = " comment--pick"
    return COMMENT_HTML.format(
        modifier=modifier,
        key=key,
        author=author,
        shown_author=shown_author,
        badges=_badges_markup(item),
        created=_created_markup(item.created),
        edited=EDITED_HTML.format(time=_created_markup(item.edited)) if item.edited else "",
        in_reply_to=in_reply_to,
        status=status,
        fold=" comment-body--long" if folds else "",
        body=body_markup(body),
        pick_note=PICK_NOTE_HTML.format(note=html.escape(item.featured_note))
        if item.featured and item.featured_note
        else "",
        more=MORE_HTML.format(possessive=possessive) if folds else "",
        actions=actions,
    )


def _badges_markup(item: CommentItem) -> str:
    """The badges after the author's name: a staff member's title (such as "Reporter"), and
    "Editors' pick"."""
    badges = ""
    if item.badge:
        badges = BADGE_HTML.format(modifier="", text=html.escape(item.badge))
    if item.featured:
        badges += BADGE_HTML.format(modifier=" comment-badge--pick", text=PICK_BADGE)
    return badges


def _with_pk(url: str, key: str) -> str:
    # The id is the last number in these paths; the slug before it may hold any digits.
    head, _, tail = url.rpartition(PK_PLACEHOLDER)
    return f"{head}{key}{tail}"
