"""Argument types shared by the manage.py commands."""


def positive_number(value):
    """argparse ``type``: a number above zero (``--hours 1.5``), else argparse's error."""
    try:
        number = float(value)
    except ValueError:
        raise ValueError(value) from None
    if not number > 0:
        raise ValueError(value)
    return number
