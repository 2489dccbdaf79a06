"""Typed readers for configuration from the environment.

Every setting Kirb has comes from here, so a bad value fails at start-up with a
sentence naming the variable instead of surfacing later as a strange behaviour. An
empty variable counts as unset (``.env.example`` lists every variable, most empty).
"""

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _raw(name):
    value = os.environ.get(name, "").strip()
    return value or None


def env_str(name, default=""):
    return _raw(name) or default


def env_bool(name, default=False):
    raw = _raw(name)
    if raw is None:
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use true or false.")


def env_int(name, default):
    return _env_number(name, default, int)


def env_float(name, default):
    return _env_number(name, default, float)


def env_list(name, default=()):
    """A comma-separated list; empty items are dropped."""
    raw = _raw(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_int_tuple(name, default):
    """A comma-separated list of integers, e.g. ``KIRB_IP_RISK_REPORT_THRESHOLDS=2,4,6,8,10``."""
    raw = _raw(name)
    if raw is None:
        return tuple(default)
    try:
        return tuple(int(item) for item in raw.split(","))
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a comma-separated list of integers.") from None


def _env_number(name, default, kind):
    raw = _raw(name)
    if raw is None:
        return default
    try:
        return kind(raw)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a valid {kind.__name__}."
        ) from None


def with_env_overrides(defaults, prefix):
    """Copy ``defaults``, letting ``<prefix><KEY>`` override each key with the same type."""
    readers = {bool: env_bool, int: env_int, float: env_float, str: env_str, tuple: env_int_tuple}
    result = {}
    for key, default in defaults.items():
        reader = readers.get(type(default))
        if reader is None:
            raise ImproperlyConfigured(f"Setting {key} has an unsupported type.")
        result[key] = reader(prefix + key, default)
    return result
