"""Validation of what clients send, with Django forms.

JSON bodies are fed to forms through ``JSONForm.from_json``, which first refuses values
of the wrong JSON type (a form would happily turn ``[1, 2]`` into the string "[1, 2]").
"""

import html
import math
import re
import uuid

import nh3
from django import forms
from django.core.exceptions import ValidationError

from chat.cities import clean_city
from chat.models import Message
from core.conf import kirb_setting
from core.errors import InvalidInput
from security.identity import is_valid_fingerprint

_PHONE_SEPARATORS_RE = re.compile(r"[\s().-]")
# C0 controls but tab and newline, DEL, and the bidirectional overrides, embeddings
# and isolates, which make "call \u202e54321 02289" display as "call 98220 12345".
_CONTROL_CHARS_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_LATEST_TIMESTAMP = 253402300800  # 10000-01-01: datetime cannot go further


def is_inert_html(text):
    """True when an HTML parser reads ``text`` as exactly this plain text.

    The krib client renders a message as HTML and Kirb's page as text: text that
    parses to itself (no tags, comments or character references) looks the same in
    both and can run nothing. ``2BHK & 3BHK`` and ``<10 min`` pass; ``<img ...>``,
    ``<b>`` and ``&lt;`` do not. nh3 is the sanitizer krib's own server uses.
    """
    return html.unescape(nh3.clean(text, tags=set())) == text


# Validation codes that clients may act on, so they are the error code of the answer;
# any other validation error answers the form's generic code.
SPECIFIC_ERROR_CODES = {"unknown_city", "markup_not_allowed", "invalid_browser_id"}


def first_error(form):
    field, errors = next(iter(form.errors.items()))
    sentence = errors[0]
    if field != "__all__" and not sentence.lower().startswith(field):
        sentence = f"{field}: {sentence}"
    return sentence


def first_error_code(form, default):
    code = next(iter(form.errors.as_data().values()))[0].code
    return code if code in SPECIFIC_ERROR_CODES else default


class JSONForm(forms.Form):
    @classmethod
    def validate(cls, data):
        """``cleaned_data`` for ``data``, or ``InvalidInput`` saying what is wrong."""
        if not isinstance(data, dict):
            raise InvalidInput("The body must be a JSON object.", code="invalid_body")
        for name in cls.base_fields:
            value = data.get(name)
            if value is not None and not isinstance(value, str):
                raise InvalidInput(f"{name} must be a string.", code="invalid_type", field=name)
        form = cls(data={name: data[name] for name in cls.base_fields if data.get(name) is not None})
        if not form.is_valid():
            raise InvalidInput(
                first_error(form),
                code=first_error_code(form, InvalidInput.code),
                fields={k: list(v) for k, v in form.errors.items()},
            )
        return form.cleaned_data


class QueryForm(forms.Form):
    @classmethod
    def validate(cls, query):
        form = cls(data=query)
        if not form.is_valid():
            raise InvalidInput(first_error(form), code=first_error_code(form, "invalid_parameter"))
        return form.cleaned_data


class PostMessageForm(JSONForm):
    browser_id = forms.CharField(required=False, strip=True)
    message = forms.CharField(strip=True, error_messages={"required": "message is required."})
    message_type = forms.ChoiceField(
        choices=Message.Type.choices,
        error_messages={"invalid_choice": "message_type must be 'offered' or 'requested'."},
    )
    phone = forms.CharField(required=False, strip=True)
    location = forms.CharField(required=False)
    # The honeypot: hidden from people, filled in by bots.
    website = forms.CharField(required=False, strip=True)

    def clean_message(self):
        text = self.cleaned_data["message"].replace("\r\n", "\n").replace("\r", "\n")
        limit = kirb_setting("MESSAGE_MAX_CHARS")
        if len(text) > limit:
            raise ValidationError(f"message is longer than {limit} characters.", code="too_long")
        if _CONTROL_CHARS_RE.search(text):
            raise ValidationError("message contains control characters.", code="invalid_characters")
        if not is_inert_html(text):
            raise ValidationError(
                "message contains HTML markup (a tag, comment or &-entity); write plain text.",
                code="markup_not_allowed",
            )
        return text

    def clean_phone(self):
        raw = self.cleaned_data["phone"]
        if not raw:
            return ""
        phone = _PHONE_SEPARATORS_RE.sub("", raw)
        digits = phone.removeprefix("+")
        low, high = kirb_setting("PHONE_MIN_DIGITS"), kirb_setting("PHONE_MAX_DIGITS")
        if not digits.isascii() or not digits.isdigit() or not low <= len(digits) <= high:
            raise ValidationError(f"phone must have {low} to {high} digits.", code="invalid_phone")
        return phone

    def clean_location(self):
        return clean_city(self.cleaned_data["location"])

    def clean_browser_id(self):
        """The poster's public id, echoed exactly: the krib client spots its own posts by it."""
        browser_id = self.cleaned_data["browser_id"]
        if browser_id and not is_valid_fingerprint(browser_id):
            raise ValidationError(
                f"browser_id must be 1-{kirb_setting('FINGERPRINT_MAX_CHARS')} characters of A-Z a-z 0-9 . _ : -",
                code="invalid_browser_id",
            )
        return browser_id


class ReportForm(JSONForm):
    message_id = forms.UUIDField(error_messages={"invalid": "message_id must be a message id (UUID)."})
    reported_browser_id = forms.CharField(strip=True)


class TrackVisitorForm(JSONForm):
    browser_id = forms.CharField(required=False)
    location = forms.CharField(required=False)

    def clean_location(self):
        return clean_city(self.cleaned_data["location"])


class HistoryQueryForm(QueryForm):
    location = forms.CharField(required=False)
    # Without a limit: everything within retention (as krib's server answers), up to
    # HISTORY_MAX_MESSAGES.
    limit = forms.IntegerField(required=False, min_value=1)
    # A message id (the oldest one the client has) or a Unix timestamp.
    before = forms.CharField(required=False)

    def clean_location(self):
        return clean_city(self.cleaned_data["location"])

    def clean_limit(self):
        limit = self.cleaned_data["limit"]
        if limit is None:
            return None
        ceiling = kirb_setting("HISTORY_MAX_LIMIT")
        if limit > ceiling:
            raise ValidationError(f"limit must be at most {ceiling}.", code="limit_too_large")
        return limit

    def clean_before(self):
        return parse_cursor(self.cleaned_data["before"], "before")


class CityStatsQueryForm(QueryForm):
    current_city = forms.CharField(required=False)

    def clean_current_city(self):
        return clean_city(self.cleaned_data["current_city"], field="current_city")


class StreamQueryForm(QueryForm):
    """The query string of a WebSocket: ``?location=&fp=&since=``."""

    location = forms.CharField(required=False)
    fp = forms.CharField(required=False)
    since = forms.CharField(required=False)

    def clean_location(self):
        return clean_city(self.cleaned_data["location"])

    def clean_since(self):
        """The last event id a client saw (chat.stream), or a message id (older clients)."""
        raw = self.cleaned_data["since"].strip()
        if not raw:
            return None
        if raw.isascii() and raw.isdigit() and len(raw) <= 18:
            return int(raw)
        try:
            return uuid.UUID(raw)
        except ValueError:
            raise ValidationError("since must be an event id or a message id.", code="invalid") from None

    def clean(self):
        """``city_key``: the feed the socket follows ("" for every city)."""
        cleaned = super().clean()
        if "location" in cleaned:
            cleaned["city_key"] = cleaned["location"][1]
        return cleaned


def parse_cursor(raw, name):
    """``before=``: a message id, or a Unix timestamp in seconds; None when absent."""
    if not raw:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        pass
    try:
        timestamp = float(raw)
    except ValueError:
        timestamp = math.nan
    if not 0 <= timestamp < _LATEST_TIMESTAMP:  # also refuses nan and inf
        raise ValidationError(f"{name} must be a message id or a Unix timestamp.", code="invalid_cursor")
    return timestamp
