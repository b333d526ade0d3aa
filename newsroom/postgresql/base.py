"""Django's PostgreSQL backend, whose health check of a kept connection costs no round trip
while the connection is quiet.

With persistent connections and CONN_HEALTH_CHECKS, Django checks a kept connection before the
first query of each request with `SELECT 1`: a round trip on every request that reads the
database, about 0.45 ms of a worker's CPU per page under gunicorn (bench/bench_cache.py), a
seventh of a signed-in reader's page. A connection the server has closed (restarted, or the
backend ended) has its closing message or end of file waiting on its socket. So this check
looks at the socket first, without waiting: nothing to read, and the connection is as it was
left, usable; anything to read, or a transaction left open, and Django's `SELECT 1` decides,
as before.
"""

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        try:
            readable, _, _ = select.select([connection.pgconn.socket], [], [], 0)
        except (OSError, ValueError, base.Database.Error):
            return False
        idle = connection.info.transaction_status == base.Database.pq.TransactionStatus.IDLE
        return (idle and not readable) or super().is_usable()
