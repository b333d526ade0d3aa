"""Policy rules applied to every new comment before it is stored."""

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q

from comments.models import (
    BannedPhrase,
    BlockedCommenter,
    Comment,
    Commenter,
    HoldReason,
    ModerationPolicy,
)
from comments.normalize import email_key, skeleton
from comments.phrases import phrase_matcher, text_key, watch_matcher
from comments.sanctions import posting_refusal, premoderation_detail
from comments.text import link_count

BLOCKED_MESSAGE = (
    "Sorry, we cannot publish comments from you. "
    "If you think this is a mistake, please write to the editors."
)
REFUSED_MESSAGE = (
    "Sorry, your comment uses language that our discussion policy does not allow, "
    "so it was not posted. Please reword it and try again."
)


@dataclass(frozen=True)
class Reason:
    """Why a comment is held or refused: a code (a HoldReason.Code for a held comment) and its
    detail (which phrase, how many links)."""

    code: str
    detail: str = ""

    @property
    def label(self) -> str:
        if self.code in HoldReason.Code.values:
            label = HoldReason.Code(self.code).label
        else:
            label = REFUSAL_LABELS[self.code]
        return f"{label}: {self.detail}" if self.detail else label


# Refusals store nothing, so their codes are no HoldReason.
BLOCKED = "blocked"
FORBIDDEN = "forbidden"
REFUSED_PHRASE = "refused_phrase"
REFUSAL_LABELS = {
    BLOCKED: "Blocked commenter",
    FORBIDDEN: "Commenter suspended or banned",
    REFUSED_PHRASE: "Refused phrase",
}


@dataclass(frozen=True)
class Verdict:
    """What happens to a new comment: stored with `status`, or refused with a message.

    `forbidden` marks a refusal of the commenter rather than of the comment (a suspension or
    a ban): the reader may not post anything now.
    """

    status: str = Comment.Status.PUBLISHED
    refused: str = ""
    forbidden: bool = False
    reasons: list[Reason] = field(default_factory=list)


def comment_screen(*, article, author_name: str, author_email: str, ip_address: str | None,
                   body: str, commenter: Commenter | None = None) -> Verdict:
    """Apply the policy rules to a new comment, in at most five queries (four once the
    phrase matcher is compiled).

    A suspended or banned `commenter`, a blocked commenter or a phrase whose rule refuses gets
    `refused` (nothing is stored); a held phrase, a watch phrase of the article, too many
    links, a pre-moderated commenter, article or site, or first-comment moderation gets
    `pending`, with a Reason for each.
    """
    if refusal := posting_refusal(commenter):
        return Verdict(refused=refusal, forbidden=True, reasons=[Reason(FORBIDDEN)])
    if _is_blocked(author_name=author_name, author_email=author_email, ip_address=ip_address):
        return Verdict(refused=BLOCKED_MESSAGE, reasons=[Reason(BLOCKED)])

    code = HoldReason.Code
    reasons = []
    mode, phrases_version = ModerationPolicy.objects.values_list(
        "mode", "phrases_version"
    ).first() or (ModerationPolicy.Mode.OPEN, 0)
    key = text_key(body)
    for rule in phrase_matcher(phrases_version).matches(key):
        if rule.action == BannedPhrase.Action.REFUSE:
            return Verdict(refused=REFUSED_MESSAGE, reasons=[Reason(REFUSED_PHRASE, rule.phrase)])
        reasons.append(Reason(code.PHRASE, rule.phrase))
    for rule in watch_matcher(article.pk).matches(key):
        reasons.append(Reason(code.WATCH_PHRASE, rule.phrase))
    hold_links = settings.COMMENTS_HOLD_LINKS
    links = link_count(body) if hold_links else 0
    if hold_links and links >= hold_links:
        reasons.append(Reason(code.LINKS, str(links)))
    if (until := premoderation_detail(commenter)) is not None:
        reasons.append(Reason(code.COMMENTER_PREMODERATED, until))
    if article.premoderated:
        reasons.append(Reason(code.ARTICLE_PREMODERATED))
    if mode == ModerationPolicy.Mode.PREMODERATE:
        reasons.append(Reason(code.SITE_PREMODERATED))
    elif mode == ModerationPolicy.Mode.FIRST_COMMENT and not _has_approved_comment(commenter):
        reasons.append(Reason(code.FIRST_COMMENT))
    if reasons:
        return Verdict(status=Comment.Status.PENDING, reasons=reasons)
    return Verdict()


def _is_blocked(*, author_name: str, author_email: str, ip_address: str | None) -> bool:
    """Whether a block matches, in one query: an IP address exactly, a name by skeleton() and
    an email address by email_key(), both compared in Python since the stored values are in
    the form the moderator typed."""
    kind = BlockedCommenter.Kind
    candidates = Q(kind=kind.NAME)
    if author_email:
        candidates |= Q(kind=kind.EMAIL)
    if ip_address:
        candidates |= Q(kind=kind.IP, value=BlockedCommenter.normalize(kind.IP, ip_address))
    name = " ".join(skeleton(author_name).split())
    email = email_key(author_email) if author_email else None
    for blocked_kind, value in BlockedCommenter.objects.in_force().filter(candidates).values_list(
        "kind", "value"
    ):
        if blocked_kind == kind.IP:
            return True
        if blocked_kind == kind.NAME and " ".join(skeleton(value).split()) == name:
            return True
        if blocked_kind == kind.EMAIL and email_key(value) == email:
            return True
    return False


def _has_approved_comment(commenter: Commenter | None) -> bool:
    """Whether a moderator approved one of this commenter's comments, or one was published on
    the site without moderation (before first-comment moderation was switched on).

    Only a verified identity earns trust: an account, or a guest's address confirmed by the
    link mailed to it (Comment.commenter). An email typed into the form proves nothing, since
    anyone can type anyone's, so a guest without a confirmed address (`commenter` None) is
    always commenting for the first time.
    """
    if commenter is None:
        return False
    return (
        Comment.objects.filter(commenter=commenter, status=Comment.Status.PUBLISHED)
        .filter(Q(moderated_at__isnull=False) | Q(import_key=""))
        .exists()
    )


def normalized_body(body: str) -> str:
    """The body as compared for duplicates: case-folded, white space collapsed."""
    return " ".join(body.casefold().split())


def is_duplicate(body: str, earlier_bodies: list[str]) -> bool:
    """Whether `body` repeats one of the same author's earlier bodies on the same article.

    A repost counts when it equals an earlier body, or when one of the two contains the other
    whole (the same comment posted again with a line added or dropped).
    """
    text = normalized_body(body)
    if not text:
        return False
    for earlier in earlier_bodies:
        other = normalized_body(earlier)
        if other and (text == other or other in text or text in other):
            return True
    return False
