"""GET /health: the load balancer's view of this instance.

Answered in front of Django (an ASGI middleware), so it stays fast when Django's
worker thread is busy: one Redis PING and one ``SELECT 1``, each with a short
timeout, and during a drain an immediate 503 without either.
"""

import asyncio
import json
import time

import redis.asyncio
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections, connection

from core import lifecycle, outages
from core.conf import kirb_setting

PATH = "/health"
# Liveness for orchestrators: the process answers. Not tied to Redis or the database,
# so an outage of either does not get every instance restarted.
LIVE_PATH = "/health/live"


def _database_ok():
    close_old_connections()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    finally:
        connection.close()


class HealthCheck:
    def __init__(self, app):
        self.app = app
        self.last = {"redis_connected": False, "database_connected": False}
        self.stream = "recovering"
        self._redis = {}  # one client per event loop

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] not in (PATH, LIVE_PATH):
            return await self.app(scope, receive, send)
        if scope["path"] == LIVE_PATH:
            status, body = 200, {"alive": True, "instance": settings.INSTANCE_ID, "draining": lifecycle.is_draining()}
        else:
            status, body = await self.check()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"cache-control", b"no-store")],
            }
        )
        await send({"type": "http.response.body", "body": json.dumps(body).encode()})

    async def check(self):
        draining = lifecycle.is_draining()
        if not draining:  # a draining instance is leaving whatever its dependencies say
            redis_connected, database_connected, stream = await asyncio.gather(
                self._redis_ok(), self._database_ok(), lifecycle.live_sockets().stream_state()
            )
            self.last = {"redis_connected": redis_connected, "database_connected": database_connected}
            # "recovering": this instance knows it cannot deliver live events now (it
            # lost the channel layer or Redis lost its state; chat.hub repairs it).
            self.stream = stream
        healthy = not draining and all(self.last.values()) and self.stream != "recovering"
        return (200 if healthy else 503), {
            "healthy": healthy,
            **self.last,
            "active_connections": lifecycle.live_sockets().count(),
            "timestamp": int(time.time()),
            "instance": settings.INSTANCE_ID,
            "draining": draining,
            "stream": self.stream,
        }

    async def _redis_ok(self):
        loop = asyncio.get_running_loop()
        if loop not in self._redis:
            timeout = kirb_setting("HEALTH_TIMEOUT_SECONDS")
            self._redis[loop] = redis.asyncio.Redis.from_url(
                settings.REDIS_URL, socket_timeout=timeout, socket_connect_timeout=timeout
            )
        try:
            ok = bool(await self._redis[loop].ping())
        except (redis.RedisError, OSError) as error:
            outages.redis.failed(error)
            return False
        outages.redis.recovered()
        return ok

    async def _database_ok(self):
        try:
            ok = await asyncio.wait_for(
                sync_to_async(_database_ok, thread_sensitive=False)(), kirb_setting("HEALTH_TIMEOUT_SECONDS")
            )
        except Exception as error:
            outages.database.failed(error if str(error) else TimeoutError("no answer to SELECT 1 in time"))
            return False
        if ok:
            outages.database.recovered()  # the one line saying the outage ended
        return ok
