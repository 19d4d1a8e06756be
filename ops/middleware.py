"""/healthz, answered before any other middleware.

Docker's health check calls it as http://127.0.0.1:8000/healthz: first in the chain, it
needs no ALLOWED_HOSTS entry for 127.0.0.1 and is not redirected to HTTPS.
"""

import json

from django.db import DatabaseError, connection
from django.http import HttpResponse

from ops.jobs import health


class HealthzMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.rstrip("/") != "/healthz":
            return self.get_response(request)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            body = {"database": "ok", "jobs": health()}
            status = 200
        except DatabaseError as exc:
            body = {"database": f"unreachable: {exc}"}
            status = 503
        return HttpResponse(json.dumps(body), status=status, content_type="application/json")
