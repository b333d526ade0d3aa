from django.core.cache import caches
from django.db import DatabaseError, connection
from django.http import HttpResponseBadRequest, JsonResponse
from django.template.loader import render_to_string
from django.utils.crypto import get_random_string
from django.views.decorators.cache import never_cache


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError:
        return False


def _cache_ok(alias: str) -> bool:
    # A key of its own: checks running at once in other workers must not overwrite it.
    # Each backend raises its own errors (redis.ConnectionError, ...): any failure means down.
    value = get_random_string(12)
    key = f"healthz:{value}"
    cache = caches[alias]
    try:
        cache.set(key, value, timeout=10)
        healthy = cache.get(key) == value
        cache.delete(key)
        return healthy
    except Exception:
        return False


@never_cache
def healthz(request):
    """200 when every part answers, 503 naming the part that does not."""
    parts = {
        "database": "ok" if _database_ok() else "error",
        "cache": "ok" if _cache_ok("pages") else "error",
        "counters": "ok" if _cache_ok("counters") else "error",
    }
    healthy = all(state == "ok" for state in parts.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", **parts}, status=200 if healthy else 503
    )


def bad_request(request, exception):
    """The 400 page, rendered without the request (handler400).

    Django's own bad_request view takes a CSRF token first, and CSRF's check reads the form
    again: a body Django has just refused, a form declared in latin-1 or utf-16, raised again
    and the 400 became a 500.
    """
    return HttpResponseBadRequest(render_to_string("400.html"))
