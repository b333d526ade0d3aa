"""Helpers shared by the tests of several modules."""

import threading
from collections.abc import Callable
from contextlib import contextmanager

from django.db import connection, transaction


@contextmanager
def held_elsewhere(hold: Callable[[], None]):
    """Run `hold()` in a transaction of another thread, on its own database connection, and keep
    that transaction open (with the locks `hold` took) until the block ends."""
    held, release = threading.Event(), threading.Event()

    def run():
        try:
            with transaction.atomic():
                hold()
                held.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=run)
    holder.start()
    try:
        assert held.wait(timeout=10), "the other transaction did not take its lock in time"
        yield
    finally:
        release.set()
        holder.join(timeout=30)
