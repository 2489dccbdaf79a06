"""django-axes hooks: the admin login throttle keys on Kirb's client IP and answers JSON.

Configured in settings (``AXES_*``); axes calls these by their import path.
"""

import logging

from django.conf import settings

from core.errors import RateLimited, error_response
from security.identity import identity_for_request

logger = logging.getLogger(__name__)


def client_ip(request):
    """The address a lockout is keyed on: the one every other Kirb limit uses.

    axes' own guess (django-ipware) would either see only the proxy's address (every
    moderator behind it sharing one lockout) or believe a forwarded header from anyone.
    """
    identity = getattr(request, "identity", None) or identity_for_request(request)
    return identity.ip


def lockout_response(request, original_response=None, credentials=None):
    """A locked-out login attempt: Kirb's JSON 429, naming no username (axes logs it)."""
    return error_response(
        RateLimited(
            "Too many failed logins from this address; try again later.",
            code="login_locked",
            retry_after_seconds=settings.AXES_COOLOFF_TIME.total_seconds(),
        )
    )
