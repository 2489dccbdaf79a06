"""Attach the caller's identity to every HTTP request and WebSocket scope."""

import logging
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import validate_host
from django.urls import reverse

from redis.exceptions import RedisError

from core.errors import KirbError, NotFound, error_response
from security import policy
from security.identity import identity_for_request, identity_for_scope, ip_in_networks

logger = logging.getLogger(__name__)


class IdentityMiddleware:
    """HTTP: ``request.identity``, and no further for a blocked IP."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.identity = identity_for_request(request)
        try:
            policy.check_not_blocked(request.identity)
        except KirbError as error:
            return error_response(error)
        except RedisError:
            # Reads still work from the database; every action checks Redis again
            # and answers 503, so nothing is accepted unchecked.
            logger.debug("Block check skipped: Redis unavailable")
        return self.get_response(request)


class AdminAllowlistMiddleware:
    """``/admin/`` only for clients in ADMIN_ALLOWED_CIDRS (when set); others get the
    JSON 404 any unknown address gets, so the admin's existence is not advertised."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            settings.ADMIN_ALLOWED_CIDRS
            and request.path_info.startswith(reverse("admin:index"))
            and not ip_in_networks(request.identity.ip, settings.ADMIN_ALLOWED_CIDRS)
        ):
            logging.getLogger("kirb.security").info("Admin refused to a client outside ADMIN_ALLOWED_CIDRS")
            return error_response(NotFound("There is nothing at this address."))
        return self.get_response(request)


class WebSocketIdentityMiddleware:
    """ASGI: ``scope["identity"]`` for the consumers."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        scope = dict(scope, identity=identity_for_scope(scope))
        return await self.app(scope, receive, send)


class WebSocketOriginMiddleware:
    """Refuse browser handshakes from other sites (cross-site WebSocket hijacking).

    Allowed: no Origin (non-browser clients, which can send anything anyway), the
    configured ALLOWED_ORIGIN, or an origin whose host is one of ALLOWED_HOSTS.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        origin = dict(scope.get("headers", [])).get(b"origin", b"").decode("latin-1")
        if origin and not origin_allowed(origin):
            return await WebsocketDenier()(scope, receive, send)
        return await self.app(scope, receive, send)


def origin_allowed(origin):
    if settings.ALLOWED_ORIGIN and origin.rstrip("/") == settings.ALLOWED_ORIGIN:
        return True
    host = urlsplit(origin).hostname or ""
    return validate_host(host, settings.ALLOWED_HOSTS)
