"""`/healthz`: is this process able to serve? For load balancers and the restart drill."""

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ledger.db_errors import classify


@never_cache
@require_GET
def healthz(request):
    """200 when the database answers a query; 503 naming the kind of failure when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        return JsonResponse({"status": "unavailable", "database": classify(error)}, status=503)
    return JsonResponse({"status": "ok"})
