"""GET /health: the load balancer's view of this instance."""

import time

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django_redis import get_redis_connection

from chat.hub import local_socket_count


def redis_ok():
    try:
        return bool(get_redis_connection("default").ping())
    except Exception:
        return False


def database_ok():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        return False


def health(request):
    redis_connected = redis_ok()
    database_connected = database_ok()
    healthy = redis_connected and database_connected
    return JsonResponse(
        {
            "healthy": healthy,
            "redis_connected": redis_connected,
            "database_connected": database_connected,
            "active_connections": local_socket_count(),
            "timestamp": int(time.time()),
            "instance": settings.INSTANCE_ID,
            "draining": False,
        },
        status=200 if healthy else 503,
    )
