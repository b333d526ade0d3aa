"""Reads of the reader pages go to the read replica, when DATABASE_REPLICA_URL configures one.

Only the safe requests of the public pages read from the replica (ReplicaReadsMiddleware marks
them); everything else, and every write, uses the primary. Sessions, users and content types
always come from the primary: a reader who has just posted must find their own session.
"""

from contextvars import ContextVar

REPLICA = "replica"
PRIMARY_ONLY_APPS = {"sessions", "auth", "contenttypes", "admin"}

_replica_reads: ContextVar[bool] = ContextVar("replica_reads", default=False)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if _replica_reads.get() and model._meta.app_label not in PRIMARY_ONLY_APPS:
            return REPLICA
        return None

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The replica gets its schema by replication, not by migrate.
        return db != REPLICA


class ReplicaReadsMiddleware:
    """Send the reads of GET and HEAD requests outside the admin to the replica."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.replica_reads = None
        try:
            return self.get_response(request)
        finally:
            if request.replica_reads is not None:
                _replica_reads.reset(request.replica_reads)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method in ("GET", "HEAD") and "admin" not in request.resolver_match.namespaces:
            request.replica_reads = _replica_reads.set(True)
