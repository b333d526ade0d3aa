"""gunicorn settings; every value can be overridden on the command line or by environment.

With Redis (REDIS_URL), the cache is shared: several worker processes, two per CPU and one.
Without it the cache lives in a process's memory (the page versions, the rate-limit counters),
and several processes would each keep their own: one process then serves with threads.
"""

import html
import multiprocessing
import os

from gunicorn import util

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

# The headers Django gives every response (newsroom/settings.py), for the few answers gunicorn
# writes itself (a malformed request line, headers too large): the page loads nothing at all.
ERROR_HEADERS = (
    "Content-Security-Policy: default-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'\r\n"
    "X-Frame-Options: DENY\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Referrer-Policy: same-origin\r\n"
)


def write_error(sock, status_int, reason, mesg):
    """gunicorn.util.write_error's answer, with ERROR_HEADERS."""
    body = (
        f"<!doctype html>\n<html><head><title>{html.escape(reason)}</title></head>\n"
        f"<body><h1>{html.escape(reason)}</h1>\n<p>{html.escape(mesg)}</p></body></html>\n"
    )
    util.write_nonblock(
        sock,
        (
            f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
            f"Content-Type: text/html; charset=utf-8\r\nContent-Length: {len(body.encode())}\r\n"
            f"{ERROR_HEADERS}\r\n{body}"
        ).encode(),
    )


def on_starting(server):
    # gunicorn has no setting for the headers of its own error answers; its workers look
    # util.write_error up when they answer, so replacing it before they start is enough.
    util.write_error = write_error
