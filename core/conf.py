"""Lazy access to the ``KIRB`` settings structure.

Read at call time, not import time, so ``override_settings(KIRB=...)`` works in tests.
"""

from django.conf import settings


def kirb_setting(name):
    try:
        return settings.KIRB[name]
    except KeyError:
        raise KeyError(
            f"KIRB[{name!r}] is not defined; add it to KIRB_DEFAULTS in kirb_project/settings.py."
        ) from None
