"""Policy rules applied to every new comment before it is stored."""

import re
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q

from comments.models import BannedPhrase, BlockedCommenter, Comment, Commenter, ModerationPolicy
from comments.normalize import email_key, skeleton
from comments.sanctions import hold_reason, posting_refusal
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
class Verdict:
    """What happens to a new comment: stored with `status`, or refused with a message.

    `forbidden` marks a refusal of the commenter rather than of the comment (a suspension or
    a ban): the reader may not post anything now.
    """

    status: str = Comment.Status.PUBLISHED
    refused: str = ""
    forbidden: bool = False
    reasons: list[str] = field(default_factory=list)


def comment_screen(*, article, author_name: str, author_email: str, ip_address: str | None,
                   body: str, commenter: Commenter | None = None) -> Verdict:
    """Apply the policy rules to a new comment, in at most four queries.

    A suspended or banned `commenter`, a blocked commenter or a phrase whose rule refuses gets
    `refused` (nothing is stored); a held phrase, too many links, a pre-moderated commenter,
    pre-moderation or first-comment moderation gets `pending`.
    """
    if refusal := posting_refusal(commenter):
        return Verdict(refused=refusal, forbidden=True, reasons=["commenter suspended or banned"])
    if _is_blocked(author_name=author_name, author_email=author_email, ip_address=ip_address):
        return Verdict(refused=BLOCKED_MESSAGE, reasons=["blocked commenter"])

    reasons = []
    text = skeleton(body)
    for phrase, action in BannedPhrase.objects.values_list("phrase", "action"):
        if phrase.strip() and phrase_pattern(phrase).search(text):
            if action == BannedPhrase.Action.REFUSE:
                return Verdict(refused=REFUSED_MESSAGE, reasons=[f"refused phrase “{phrase}”"])
            reasons.append(f"held phrase “{phrase}”")
    hold_links = settings.COMMENTS_HOLD_LINKS
    if hold_links and link_count(body) >= hold_links:
        reasons.append(f"{hold_links} or more links")
    if article.premoderated:
        reasons.append("the article is pre-moderated")
    if held := hold_reason(commenter):
        reasons.append(held)
    mode = ModerationPolicy.objects.values_list("mode", flat=True).first()
    if mode == ModerationPolicy.Mode.PREMODERATE:
        reasons.append("the site is pre-moderated")
    elif mode == ModerationPolicy.Mode.FIRST_COMMENT and not _has_approved_comment(commenter):
        reasons.append("first comment from this commenter")
    if reasons:
        return Verdict(status=Comment.Status.PENDING, reasons=reasons)
    return Verdict()


def phrase_pattern(phrase: str) -> re.Pattern:
    """Match `phrase` as whole words in a skeleton() of text, any white space between its
    words."""
    words = skeleton(phrase).split()
    return re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, words)) + r"(?!\w)")


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
    for blocked_kind, value in BlockedCommenter.objects.filter(candidates).values_list(
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
