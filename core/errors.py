"""Typed errors for everything Kirb refuses, and the one place they become responses.

Services raise these; the HTTP middleware below and the WebSocket consumers turn them
into the wire format ``{"error": <code>, "message": <sentence>}`` (plus
``retry_after_seconds`` and a ``Retry-After`` header on 429).
"""

import logging
import math

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import JsonResponse
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


class KirbError(Exception):
    """Base of every refusal the client is told about."""

    status = 400
    code = "bad_request"
    default_message = "The request could not be processed."

    def __init__(self, message=None, *, code=None, **extra):
        self.message = message or self.default_message
        if code:
            self.code = code
        self.extra = extra
        super().__init__(self.message)

    def as_dict(self):
        return {"error": self.code, "message": self.message, **self.extra}


class InvalidInput(KirbError):
    status = 400
    code = "invalid_input"
    default_message = "The request is not valid."


class PayloadTooLarge(KirbError):
    status = 413
    code = "payload_too_large"
    default_message = "The request body is too large."


class RequestTimeout(KirbError):
    status = 408
    code = "request_timeout"
    default_message = "The request did not arrive in time; send it again, whole."


class PolicyViolation(KirbError):
    status = 403
    code = "policy_violation"
    default_message = "This is not allowed here."


class NotFound(KirbError):
    status = 404
    code = "not_found"
    default_message = "Not found."


class RateLimited(KirbError):
    status = 429
    code = "rate_limited"
    default_message = "Too many requests; try again later."

    def __init__(self, message=None, *, retry_after_seconds, **extra):
        self.retry_after_seconds = max(1, math.ceil(retry_after_seconds))
        super().__init__(message, retry_after_seconds=self.retry_after_seconds, **extra)


class ServiceUnavailable(KirbError):
    status = 503
    code = "service_unavailable"
    default_message = "A service Kirb depends on is unavailable; try again shortly."


def error_response(error):
    response = JsonResponse(error.as_dict(), status=error.status)
    if isinstance(error, RateLimited):
        response["Retry-After"] = str(error.retry_after_seconds)
    return response


def as_kirb_error(exception):
    """Map any exception a request can raise to the KirbError the client should see.

    Returns None for a real bug, which must surface as a 500 and a logged traceback.
    """
    if isinstance(exception, KirbError):
        return exception
    if isinstance(exception, RequestDataTooBig):
        return PayloadTooLarge()
    if isinstance(exception, SuspiciousOperation):
        logging.getLogger("kirb.security").warning("Suspicious request: %s", exception)
        return InvalidInput("The request was malformed.", code="bad_request")
    # Outages: one line when they start, a reminder, one when they end
    # (core/outages.py), not a traceback per request.
    from core import outages

    if isinstance(exception, RedisError):
        outages.redis.failed(exception)
        return ServiceUnavailable(code="redis_unavailable")
    if isinstance(exception, (OperationalError, InterfaceError)):  # unreachable, timed out, locked
        outages.database.failed(exception)
        return ServiceUnavailable(code="database_unavailable")
    if isinstance(exception, DatabaseError):  # a query the database refused: a bug, with its traceback
        logger.exception("Database error")
        return ServiceUnavailable(code="database_unavailable")
    return None


class KirbErrorMiddleware:
    """Turns exceptions raised by views into JSON error responses."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        error = as_kirb_error(exception)
        return error_response(error) if error else None


# Django's own error handlers (urls.py), so that even a 404 for an unknown path or an
# unhandled bug answers JSON rather than an HTML page.


def bad_request(request, exception=None):
    return error_response(InvalidInput("The request was malformed.", code="bad_request"))


def permission_denied(request, exception=None):
    return error_response(PolicyViolation("You are not allowed to do this.", code="forbidden"))


def page_not_found(request, exception=None):
    return error_response(NotFound("There is nothing at this address."))


def server_error(request):
    return JsonResponse(
        {"error": "internal_error", "message": "Something went wrong on our side."}, status=500
    )
