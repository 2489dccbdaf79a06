"""What the manage.py commands share: argument types and turning an unavailable
dependency into a ``CommandError`` that says what to do."""

from contextlib import contextmanager

from django.core.management.base import CommandError
from django.db import DatabaseError
from redis.exceptions import RedisError


def positive_number(value):
    """argparse ``type``: a number above zero (``--hours 1.5``), else argparse's error."""
    try:
        number = float(value)
    except ValueError:
        raise ValueError(value) from None
    if not number > 0:
        raise ValueError(value)
    return number


@contextmanager
def dependency_errors(redis_advice):
    """A database or Redis failure inside becomes a CommandError; ``redis_advice`` says
    what a Redis failure left behind and what to run once it answers."""
    try:
        yield
    except DatabaseError as error:
        raise CommandError(f"The database is unavailable ({error}): check DATABASE_URL, then run this again.") from None
    except RedisError as error:
        raise CommandError(f"Redis is unavailable ({error}): {redis_advice}") from None
