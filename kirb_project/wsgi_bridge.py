"""Django's HTTP side as WSGI on a small thread pool, under the ASGI server.

Django's ASGI handler runs a sync-heavy project like this one at a price: every request
gets a thread of its own (asgiref's per-request ThreadSensitiveContext), and crosses
between the event loop and threads several times (the request_started signal, each
run of sync middleware, the view, the response's close). Every middleware and view
here is sync, so none of that buys anything. This bridge reads the body on the event
loop, then makes one hop: Django's WSGI handler runs the whole request on a pool of
HTTP_THREADS threads, reused (and so are their database connections, as under any
threaded WSGI server). Measured in docs/BENCHMARKS.md ("The HTTP path, the inbox and the collector").

Request limits (body size, header and body deadlines, connection caps) are enforced
by the server before a request gets here (kirb_project/server.py).
"""

import io
import sys
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from django.core.handlers.wsgi import WSGIHandler

from core.conf import kirb_setting


class WsgiBridge:
    def __init__(self):
        self.handler = WSGIHandler()
        self.pool = ThreadPoolExecutor(max_workers=kirb_setting("HTTP_THREADS"), thread_name_prefix="kirb-http")
        # A SyncToAsync thread: async_to_sync inside (chat.events.publish) runs on the
        # server's own event loop, not on a new loop of its own.
        self.respond = sync_to_async(self._respond, thread_sensitive=False, executor=self.pool)

    async def __call__(self, scope, receive, send):
        body = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        status, headers, content = await self.respond(wsgi_environ(scope, b"".join(body)))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    def _respond(self, environ):
        """Run Django on ``environ``: ``(status, headers, body)``, the body read whole
        (API answers and static files alike are small)."""
        started = {}

        def start_response(status, headers, exc_info=None):
            started["status"] = int(status.split(" ", 1)[0])
            started["headers"] = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]

        response = self.handler(environ, start_response)
        try:
            content = b"".join(response)
        finally:
            response.close()  # request_finished: Django closes stale database connections
        return started["status"], started["headers"], content


def wsgi_environ(scope, body):
    """PEP 3333's environ for an ASGI HTTP ``scope`` and its whole ``body``."""
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    environ = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": scope.get("root_path", "").encode("utf-8").decode("latin-1"),
        "PATH_INFO": scope["path"].encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]),
        "REMOTE_ADDR": client[0],
        "REMOTE_PORT": str(client[1]),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in scope.get("headers", []):
        if b"_" in raw_name:
            continue  # "X_Forwarded_For" would pass for X-Forwarded-For (daphne drops it too)
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        if name == "CONTENT_LENGTH":
            continue  # the body as received is what counts
        key = name if name == "CONTENT_TYPE" else f"HTTP_{name}"
        if key in environ:  # a repeated header: joined, as Django's ASGI handler does
            value = environ[key] + ("; " if key == "HTTP_COOKIE" else ",") + value
        environ[key] = value
    return environ
