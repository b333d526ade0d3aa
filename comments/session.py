"""The reader's own data in the session: the ids of their comments awaiting moderation, which
the discussion shows them (and only them) until a moderator decides."""

OWN_PENDING_KEY = "comments_own_pending"


def own_pending_ids(session) -> frozenset[int]:
    """The ids of the reader's comments awaiting moderation, as own_pending_add() stored them.

    The session is the reader's, but its contents are still checked: anything but whole
    numbers is ignored.
    """
    stored = session.get(OWN_PENDING_KEY, ())
    if not isinstance(stored, list | tuple):
        return frozenset()
    return frozenset(pk for pk in stored if isinstance(pk, int) and not isinstance(pk, bool))


def own_pending_add(session, pk: int) -> None:
    """Remember that the reader's comment `pk` awaits moderation."""
    session[OWN_PENDING_KEY] = [*sorted(own_pending_ids(session)), pk]
