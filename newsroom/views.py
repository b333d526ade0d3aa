from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache


@never_cache
def healthz(request):
    """200 when every part answers, 503 naming the part that does not."""
    status = {"status": "ok", "database": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        status["database"] = "error"
        status["status"] = "error"
    return JsonResponse(status, status=200 if status["status"] == "ok" else 503)

