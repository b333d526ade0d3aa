"""A reader's own data, as the JSON file "Download my data" gives them.

The reader is a `Subject`: an account (with the guest records of the addresses it verified), or
a guest's confirmed address. Each section of the file is one selector of SECTIONS, which reads
what the site holds about the subject in a fixed number of queries; a new kind of record is one
more entry there. The file holds the reader's own data only: of the people around them (who
replied, who reported them, which moderator decided) it names nobody.

The signed link a guest is mailed names their guest record and address, and works for
LINK_MAX_AGE.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import reduce
from operator import or_

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from comments.guests import email_normalized
from comments.models import (
    Comment,
    Commenter,
    CommentRevision,
    Decision,
    DecisionMailPreference,
    Recommendation,
    ReplyMailPreference,
    ReplyNotice,
    ReplySubscription,
    Report,
    UnconfirmedComment,
)
from comments.signed_links import link_read, link_sign
from newsroom.mail import absolute_url, mail_queue

FORMAT = "newsroom-data/1"
LINK_SALT = "comments.data_export"
LINK_HOURS = 24
LINK_MAX_AGE = timedelta(hours=LINK_HOURS)


@dataclass(frozen=True)
class Subject:
    """Whose data: an account (`user`), the commenter records that are theirs, and the
    addresses they have shown to be theirs (verified for an account, confirmed for a guest)."""

    user: object | None
    commenter_ids: tuple[int, ...]
    emails: tuple[str, ...]


def subject_for_user(user) -> Subject:
    """An account, with its verified addresses and the guest records of those addresses."""
    emails = tuple(
        sorted(
            {
                email_normalized(address)
                for address in EmailAddress.objects.filter(user=user, verified=True)
                .values_list("email", flat=True)
            }
        )
    )
    commenters = Commenter.objects.filter(Q(user=user) | _email_q("email", emails))
    return Subject(
        user=user,
        commenter_ids=tuple(sorted(commenters.values_list("pk", flat=True))),
        emails=emails,
    )


def subject_for_guest(commenter: Commenter) -> Subject:
    """A guest's confirmed address (`commenter` is its record)."""
    return Subject(user=None, commenter_ids=(commenter.pk,), emails=(commenter.email,))


def _email_q(field: str, emails: tuple[str, ...]) -> Q:
    """Rows whose `field` is one of `emails`, in any case (comments keep the address as typed)."""
    return reduce(or_, (Q(**{f"{field}__iexact": email}) for email in emails), Q(pk__in=[]))


def _comments(subject: Subject) -> QuerySet[Comment]:
    return Comment.objects.filter(
        Q(commenter_id__in=subject.commenter_ids) | _email_q("author_email", subject.emails)
    )


def _time(value):
    return value.isoformat() if value is not None else None


def profile_section(subject: Subject) -> list[dict]:
    """The commenter records: the account's, and those of the guest addresses."""
    return [
        {
            "display_name": commenter.display_name,
            "handle": commenter.handle,
            "email": commenter.email,
            "account": commenter.user_id is not None,
            "public_profile": commenter.profile_public,
            "profile_url": absolute_url(commenter.get_absolute_url())
            if commenter.profile_public
            else None,
            "badge": commenter.badge,
            "status": commenter.current_status,
            "status_until": _time(commenter.status_until),
            "status_reason": commenter.status_reason,
            "created": _time(commenter.created),
        }
        for commenter in Commenter.objects.filter(pk__in=subject.commenter_ids).order_by("pk")
    ]


def account_section(subject: Subject) -> dict | None:
    user = subject.user
    if user is None:
        return None
    return {
        "username": user.get_username(),
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "date_joined": _time(user.date_joined),
        "last_login": _time(user.last_login),
    }


def email_addresses_section(subject: Subject) -> list[dict]:
    """The account's addresses as allauth keeps them."""
    if subject.user is None:
        return []
    return [
        {"email": row.email, "verified": row.verified, "primary": row.primary}
        for row in EmailAddress.objects.filter(user=subject.user).order_by("pk")
    ]


def comments_section(subject: Subject) -> list[dict]:
    """Every comment of the reader's, whatever its status, with what was stored with it."""
    rows = _comments(subject).select_related("article").order_by("created", "pk")
    return [
        {
            "id": comment.pk,
            "url": absolute_url(comment.get_absolute_url())
            if comment.status == Comment.Status.PUBLISHED
            else None,
            "article_title": str(comment.article),
            "article_url": absolute_url(comment.article.get_absolute_url()),
            "parent_id": comment.parent_id,
            "status": comment.status,
            "removal_reason": comment.removal_reason,
            "created": _time(comment.created),
            "moderated": _time(comment.moderated_at),
            "author_name": comment.author_name,
            "author_email": comment.author_email,
            "body": comment.body,
            "ip_address": comment.ip_address,
            "user_agent": comment.user_agent,
        }
        for comment in rows
    ]


def moderation_decisions_section(subject: Subject) -> list[dict]:
    """Moderators' decisions on the reader's comments, without the moderator or their note."""
    rows = Decision.objects.filter(comment__in=_comments(subject)).order_by("created", "pk")
    return [
        {
            "comment_id": decision.comment_id,
            "status": decision.status,
            "reason": decision.reason,
            "created": _time(decision.created),
        }
        for decision in rows
    ]


def unconfirmed_comments_section(subject: Subject) -> list[dict]:
    """Guests' comments still waiting for their confirmation link."""
    rows = (
        UnconfirmedComment.objects.filter(_email_q("author_email", subject.emails))
        .select_related("article")
        .order_by("created", "pk")
    )
    return [
        {
            "article_title": str(row.article),
            "article_url": absolute_url(row.article.get_absolute_url()),
            "parent_id": row.parent_id,
            "created": _time(row.created),
            "author_name": row.author_name,
            "author_email": row.author_email,
            "body": row.body,
            "ip_address": row.ip_address,
            "user_agent": row.user_agent,
        }
        for row in rows
    ]


def reports_filed_section(subject: Subject) -> list[dict]:
    """The reports the reader made while signed in."""
    if subject.user is None:
        return []
    rows = Report.objects.filter(account=subject.user).order_by("created", "pk")
    return [
        {
            "comment_id": report.comment_id,
            "reason": report.reason,
            "detail": report.detail,
            "created": _time(report.created),
            "resolved": report.resolved,
            "ip_address": report.ip_address,
        }
        for report in rows
    ]


def reports_on_comments_section(subject: Subject) -> list[dict]:
    """Readers' reports of the reader's comments: why and when, never who reported or what
    they wrote."""
    rows = Report.objects.filter(comment__in=_comments(subject)).order_by("created", "pk")
    return [
        {
            "comment_id": report.comment_id,
            "reason": report.reason,
            "created": _time(report.created),
            "resolved": report.resolved,
        }
        for report in rows.only("comment_id", "reason", "created", "resolved")
    ]


def reply_subscriptions_section(subject: Subject) -> list[dict]:
    rows = ReplySubscription.objects.filter(commenter_id__in=subject.commenter_ids)
    return [
        {"comment_id": row.comment_id, "created": _time(row.created)}
        for row in rows.order_by("pk")
    ]


def reply_mail_preferences_section(subject: Subject) -> list[dict]:
    rows = ReplyMailPreference.objects.filter(commenter_id__in=subject.commenter_ids)
    return [
        {"subscribe_by_default": row.subscribe_by_default, "frequency": row.frequency}
        for row in rows.order_by("pk")
    ]


def reply_notices_section(subject: Subject) -> list[dict]:
    """The replies mailed, or waiting to be mailed, to the reader (by comment id)."""
    rows = ReplyNotice.objects.filter(recipient_id__in=subject.commenter_ids).order_by("pk")
    return [
        {
            "reply_id": row.reply_id,
            "thread_id": row.thread_id,
            "digest": row.digest,
            "created": _time(row.created),
            "due": _time(row.due),
            "sent": _time(row.sent),
        }
        for row in rows
    ]


def revisions_section(subject: Subject) -> list[dict]:
    """The earlier texts of the reader's edited comments."""
    rows = CommentRevision.objects.filter(comment__in=_comments(subject)).order_by("edited", "pk")
    return [
        {"comment_id": row.comment_id, "body": row.body, "replaced": _time(row.edited)}
        for row in rows
    ]


def recommendations_section(subject: Subject) -> list[dict]:
    """The comments the reader recommended (by id, not whose they are)."""
    rows = Recommendation.objects.filter(commenter_id__in=subject.commenter_ids)
    return [
        {"comment_id": row.comment_id, "created": _time(row.created)}
        for row in rows.order_by("created", "pk")
    ]


def decision_mail_preferences_section(subject: Subject) -> list[dict]:
    rows = DecisionMailPreference.objects.filter(commenter_id__in=subject.commenter_ids)
    return [{"published_mail": row.published} for row in rows.order_by("pk")]


SECTIONS: list[tuple[str, Callable[[Subject], object]]] = [
    ("profile", profile_section),
    ("account", account_section),
    ("email_addresses", email_addresses_section),
    ("comments", comments_section),
    ("revisions", revisions_section),
    ("moderation_decisions", moderation_decisions_section),
    ("unconfirmed_comments", unconfirmed_comments_section),
    ("reports_filed", reports_filed_section),
    ("reports_on_your_comments", reports_on_comments_section),
    ("reply_subscriptions", reply_subscriptions_section),
    ("reply_mail_preferences", reply_mail_preferences_section),
    ("reply_notices", reply_notices_section),
    ("recommendations", recommendations_section),
    ("decision_mail_preferences", decision_mail_preferences_section),
]


def personal_data(subject: Subject) -> dict:
    """The whole file's content."""
    data: dict[str, object] = {
        "format": FORMAT,
        "generated": timezone.now().isoformat(),
        "site": settings.SITE_URL,
    }
    for name, section in SECTIONS:
        data[name] = section(subject)
    return data


def personal_data_json(subject: Subject) -> str:
    return json.dumps(personal_data(subject), cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)


def export_filename() -> str:
    return f"newsroom-data-{timezone.localdate().isoformat()}.json"


def link_token(commenter: Commenter) -> str:
    """The signed, timestamped token of a guest's download link."""
    return link_sign({"c": commenter.pk, "e": commenter.email}, salt=LINK_SALT)


def link_commenter(token: str) -> Commenter | None:
    """The guest record a download link names; None when it no longer exists or its address
    changed. Raises LinkInvalid (`expired` past LINK_MAX_AGE)."""
    value = link_read(token, salt=LINK_SALT, max_age=LINK_MAX_AGE, shape={"c": int, "e": str})
    return Commenter.objects.filter(pk=value["c"], email=value["e"], user=None).first()


def guest_commenter(email: str) -> Commenter | None:
    """The guest record of a confirmed address, if the site holds one."""
    return Commenter.objects.filter(email__iexact=email_normalized(email), user=None).first()


def data_link_send(*, email: str) -> bool:
    """Mail the download link to `email` when it is a guest's confirmed address; returns
    whether a mail was queued. Callers answer alike either way, so nobody learns from the
    answer whether the site holds anything for an address."""
    commenter = guest_commenter(email)
    if commenter is None:
        return False
    path = reverse("comments:data_download", kwargs={"token": link_token(commenter)})
    context = {"name": commenter.display_name, "link": absolute_url(path), "hours": LINK_HOURS}
    mail_queue(
        to=commenter.email,
        subject="Your data at Newsroom",
        text=render_to_string("comments/mail/data_link.txt", context),
        html=render_to_string("comments/mail/data_link.html", context),
    )
    return True
