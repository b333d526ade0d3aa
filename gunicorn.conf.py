"""gunicorn settings; every value can be overridden on the command line or by environment.

With Redis (REDIS_URL), the cache is shared: several worker processes, two per CPU and one.
Without it the cache lives in a process's memory (the page versions, the rate-limit counters),
and several processes would each keep their own: one process then serves with threads.
"""

import multiprocessing
import os

shared_cache = bool(os.environ.get("REDIS_URL"))

bind = os.environ.get("GUNICORN_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
workers = int(
    os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1 if shared_cache else 1)
)
threads = int(os.environ.get("GUNICORN_THREADS", 1 if shared_cache else 8))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# "-" is stdout for the access log and stderr for gunicorn's own messages (start, stop, workers).
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# gunicorn's control socket (for gunicornc) defaults to one path per user, shared by every
# instance, and stopping one instance deletes the others' socket. Off unless
# GUNICORN_CONTROL_SOCKET names a path for this instance alone.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
control_socket_disable = not control_socket
