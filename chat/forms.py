"""Validation of what clients send, with Django forms.

JSON bodies are fed to forms through ``JSONForm.from_json``, which first refuses values
of the wrong JSON type (a form would happily turn ``[1, 2]`` into the string "[1, 2]").
"""

import math
import re
import string
import uuid

from django import forms
from django.core.exceptions import ValidationError

from chat.models import Message
from kirb_project.conf import kirb_setting
from kirb_project.errors import InvalidInput

_CITY_RE = re.compile(r"[^\W\d_]+(?:[ .'-]+[^\W\d_]+)*")
_PHONE_SEPARATORS_RE = re.compile(r"[\s().-]")
_CONTROL_CHARS_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_LATEST_TIMESTAMP = 253402300800  # 10000-01-01: datetime cannot go further


def canonical_city(raw):
    """The one spelling of a city used for storage, filtering and broadcast groups."""
    city = " ".join((raw or "").split())
    if not city:
        return ""
    if len(city) > kirb_setting("CITY_MAX_CHARS") or not _CITY_RE.fullmatch(city):
        raise ValidationError("location must be a city name (letters, spaces, . ' -).", code="invalid_location")
    return string.capwords(city)


def first_error(form):
    field, errors = next(iter(form.errors.items()))
    sentence = errors[0]
    if field != "__all__" and not sentence.lower().startswith(field):
        sentence = f"{field}: {sentence}"
    return sentence


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
            raise InvalidInput(first_error(form), fields={k: list(v) for k, v in form.errors.items()})
        return form.cleaned_data


class QueryForm(forms.Form):
    @classmethod
    def validate(cls, query):
        form = cls(data=query)
        if not form.is_valid():
            raise InvalidInput(first_error(form), code="invalid_parameter")
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
        text = self.cleaned_data["message"]
        limit = kirb_setting("MESSAGE_MAX_CHARS")
        if len(text) > limit:
            raise ValidationError(f"message is longer than {limit} characters.", code="too_long")
        if _CONTROL_CHARS_RE.search(text):
            raise ValidationError("message contains control characters.", code="invalid_characters")
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
        return canonical_city(self.cleaned_data["location"])

    def clean_browser_id(self):
        browser_id = self.cleaned_data["browser_id"]
        if len(browser_id) > kirb_setting("FINGERPRINT_MAX_CHARS"):
            raise ValidationError("browser_id is too long.", code="too_long")
        return browser_id


class ReportForm(JSONForm):
    message_id = forms.UUIDField(error_messages={"invalid": "message_id must be a message id (UUID)."})
    reported_browser_id = forms.CharField(strip=True)


class TrackVisitorForm(JSONForm):
    browser_id = forms.CharField(required=False)
    location = forms.CharField(required=False)

    def clean_location(self):
        return canonical_city(self.cleaned_data["location"])


class HistoryQueryForm(QueryForm):
    location = forms.CharField(required=False)
    limit = forms.IntegerField(required=False, min_value=1)
    # A message id (the oldest one the client has) or a Unix timestamp.
    before = forms.CharField(required=False)

    def clean_location(self):
        return canonical_city(self.cleaned_data["location"])

    def clean_limit(self):
        limit = self.cleaned_data["limit"]
        if limit is None:
            return kirb_setting("HISTORY_DEFAULT_LIMIT")
        ceiling = kirb_setting("HISTORY_MAX_LIMIT")
        if limit > ceiling:
            raise ValidationError(f"limit must be at most {ceiling}.", code="limit_too_large")
        return limit

    def clean_before(self):
        return parse_cursor(self.cleaned_data["before"], "before")


class CityStatsQueryForm(QueryForm):
    current_city = forms.CharField(required=False)

    def clean_current_city(self):
        return canonical_city(self.cleaned_data["current_city"])


class StreamQueryForm(QueryForm):
    """The query string of a WebSocket: ``?location=&fp=&since=``."""

    location = forms.CharField(required=False)
    fp = forms.CharField(required=False)
    since = forms.UUIDField(required=False, error_messages={"invalid": "since must be a message id."})

    def clean_location(self):
        return canonical_city(self.cleaned_data["location"])


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
