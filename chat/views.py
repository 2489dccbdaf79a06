"""HTTP transport of the wire contract: parse, call a service, answer JSON."""

import json
from functools import wraps

from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from chat import services, stats
from core.conf import kirb_setting
from core.errors import KirbError, InvalidInput, error_response


class MethodNotAllowed(KirbError):
    status = 405
    code = "method_not_allowed"


def api(*methods):
    """A JSON endpoint: no CSRF (no cookies are involved) and a JSON 405 for other methods."""

    def decorator(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in methods:
                response = error_response(
                    MethodNotAllowed(f"Use {' or '.join(methods)} on this address.")
                )
                response["Allow"] = ", ".join(methods)
                return response
            result = view(request, *args, **kwargs)
            return JsonResponse(result, safe=False)

        return wrapper

    return decorator


def read_json(request):
    raw = request.body
    if not raw.strip():
        raise InvalidInput("The request body is empty; send a JSON object.", code="empty_body")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("The request body is not valid UTF-8.", code="invalid_encoding") from None
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except (json.JSONDecodeError, RecursionError, ValueError) as error:
        detail = f" ({error.msg} at line {error.lineno} column {error.colno})" if isinstance(error, json.JSONDecodeError) else ""
        raise InvalidInput(f"The request body is not valid JSON{detail}.", code="invalid_json") from None


def _refuse_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def index(request):
    """The web page; it validates posts with the server's own limits, passed in here."""
    page_config = {
        name.lower(): kirb_setting(name)
        for name in (
            "MESSAGE_MAX_CHARS", "PHONE_MIN_DIGITS", "PHONE_MAX_DIGITS", "MESSAGE_RETENTION_HOURS", "PAGE_MAX_POSTS",
        )
    }  # fmt: skip
    return render(request, "chat/index.html", {"page_config": page_config})


@api("GET", "POST")
def messages(request):
    if request.method == "POST":
        return services.post_message(request.identity, read_json(request))
    return services.history(request.identity, request.GET)


@api("GET")
def contact(request, message_id):
    return services.reveal_phone(request.identity, message_id)


@api("GET")
def cooldown(request):
    return services.cooldown(request.identity)


@api("POST")
def report(request):
    return services.report_message(request.identity, read_json(request))


@api("POST")
def track_visitor(request):
    body = read_json(request) if request.body.strip() else {}
    return stats.track_visitor(request.identity, body)


def cached_for_stats(view):
    """Let browsers and proxies reuse a stats answer as long as the server does."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code == 200:
            response["Cache-Control"] = f"public, max-age={kirb_setting('STATS_CACHE_SECONDS')}"
        return response

    return wrapper


@cached_for_stats
@api("GET")
def daily_stats(request):
    return stats.daily_stats()


@cached_for_stats
@api("GET")
def city_stats(request):
    return stats.city_stats(request.GET)
