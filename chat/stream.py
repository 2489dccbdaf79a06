"""The stream's event log: ids in commit order, and reading back what a client missed.

Design and reasoning: docs/STREAM.md. In short, every event is a ``StreamEvent`` row
written in the transaction of the change it announces; its id comes from the
one-row ``StreamCounter``, incremented as the transaction's last write, so its row
lock is held until commit and the next writer gets the next id only after this one
committed. Ids are therefore gapless among committed events (a rolled back writer
rolls its increment back too) and increase in commit order on PostgreSQL and SQLite
alike (SQLite runs IMMEDIATE transactions: one writer at a time anyway).
"""

import logging
import sqlite3
import time
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, Max, OuterRef, Q
from django.utils import timezone

from chat import events
from chat.models import Message, StreamCounter, StreamEvent
from core.conf import kirb_setting
from core.errors import NotFound

logger = logging.getLogger(__name__)

COUNTER_ID = 1


def record(kind, message):
    """Append an event about ``message`` to the log; published once the transaction commits.

    Call it inside the ``transaction.atomic()`` block of the change, as its last write,
    so that the counter's lock is held for as short a time as possible.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("stream.record() must run inside the transaction of the change it announces.")
    event_id = _next_event_id()
    _insert_event(event_id, kind, message)
    transaction.on_commit(partial(events.publish, event_id, kind, message))
    return event_id


def _next_event_id():
    connection = transaction.get_connection()
    if _UPDATE_RETURNS.get(connection.vendor, False):
        # One statement: the increment and the new value (no SELECT after the UPDATE).
        incremented = _increment_returning(connection)
        if incremented is not None:
            return incremented
        updated = 0
    else:
        updated = _increment()
    if not updated:
        # No counter row: the table was emptied (the migration creates it). Ids must
        # never go back (running hubs and clients hold cursors), so start after both
        # the newest logged event and the clock in milliseconds. Two writers racing
        # here: one creates, the other's insert fails and it takes the updated row
        # (waiting for the creator's commit on PostgreSQL).
        newest = StreamEvent.objects.aggregate(newest=Max("id"))["newest"] or 0
        start = max(newest + 1, int(time.time() * 1000))
        try:
            with transaction.atomic():
                StreamCounter.objects.create(id=COUNTER_ID, last_event_id=start)
            return start
        except IntegrityError:
            _increment()
    return StreamCounter.objects.values_list("last_event_id", flat=True).get(id=COUNTER_ID)


_EVENT_COLUMNS = ("id", "kind", "message", "created_at")


def _insert_event(event_id, kind, message):
    """``StreamEvent.objects.create(id=event_id, kind=kind, message=message)`` as the one
    INSERT it runs, each value prepared by its field as the ORM prepares it, without
    building and saving a model instance (which costs more than the statement)."""
    connection = transaction.get_connection()
    fields = [StreamEvent._meta.get_field(name) for name in _EVENT_COLUMNS]
    values = (event_id, kind, message.pk, timezone.now())
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(StreamEvent._meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))})",
            [field.get_db_prep_save(value, connection) for field, value in zip(fields, values)],
        )


# Databases whose UPDATE takes RETURNING (SQLite since 3.35, 2021).
_UPDATE_RETURNS = {"postgresql": True, "sqlite": sqlite3.sqlite_version_info >= (3, 35)}


def _increment():
    return StreamCounter.objects.filter(id=COUNTER_ID).update(last_event_id=F("last_event_id") + 1)


def _increment_returning(connection):
    """``_increment`` and the new value in one statement; None when there is no counter row."""
    quote = connection.ops.quote_name
    table = quote(StreamCounter._meta.db_table)
    counter = quote(StreamCounter._meta.get_field("last_event_id").column)
    key = quote(StreamCounter._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {counter} = {counter} + 1 WHERE {key} = %s RETURNING {counter}", [COUNTER_ID])
        row = cursor.fetchone()
    return None if row is None else row[0]


def high_water_mark():
    """The newest committed event id (0 for an empty log). Every event up to it is
    committed too, so reading ``id <= high_water_mark()`` afterwards misses none."""
    return StreamEvent.objects.aggregate(newest=Max("id"))["newest"] or 0


def _unsent_events():
    """Events worth sending: a message event whose message was deleted since is left
    out (its deletion event follows; no need to show a removed post first), and so is
    one that a later event of the same message supersedes (a held post approved, a post
    restored): the message is read as it is now, so sending both would send it twice."""
    superseded = StreamEvent.objects.filter(
        message=OuterRef("message"), kind=StreamEvent.Kind.MESSAGE, id__gt=OuterRef("id")
    )
    return (
        StreamEvent.objects.exclude(kind=StreamEvent.Kind.MESSAGE, message__is_deleted=True)
        .exclude(Q(kind=StreamEvent.Kind.MESSAGE) & Exists(superseded))
        .select_related("message")
        .order_by("id")
    )


def hub_events_between(first, last, limit):
    """Hub events for ids ``first..last`` (inclusive), oldest first, at most ``limit``.

    Returns ``(events, read_upto)``: every id up to ``read_upto`` was considered (a
    short page means all of them)."""
    rows = list(_unsent_events().filter(id__gte=first, id__lte=last)[:limit])
    read_upto = rows[-1].id if len(rows) == limit else last
    return [events.hub_event(row.id, row.kind, row.message) for row in rows], read_upto


def resolve_since(identity, city_key, since):
    """The event id a ``since=`` names: an event id as is, a message id as the latest
    event that published it (the form older clients resume with)."""
    if isinstance(since, int):
        if since > high_water_mark():
            raise NotFound("since: no event with this id; reload the history.", code="unknown_since")
        return since
    message = Message.objects.known_to(identity).filter(id=since).first()
    newest = None
    if message is not None:
        newest = message.stream_events.filter(kind=StreamEvent.Kind.MESSAGE).aggregate(newest=Max("id"))["newest"]
    if newest is None:
        raise NotFound("since: no message with this id; reload the history.", code="unknown_since")
    return newest


def replay(identity, city_key, since):
    """What a client resuming after ``since`` missed, as ``/ws/events`` frames.

    Returns ``(frames, covered_upto, next_since)``: the envelopes of the events after
    ``since`` that ``identity`` may see in ``city_key``'s feed, in id order, at most
    REPLAY_MAX_MESSAGES; every event up to ``covered_upto`` was considered (so live
    events up to it are duplicates); ``next_since`` is None when nothing was left out,
    else the id to resume from for the rest.
    """
    after = resolve_since(identity, city_key, since)
    upto = high_water_mark()
    limit = kirb_setting("REPLAY_MAX_MESSAGES")
    readable = Message.objects.known_to(identity).in_city(city_key)
    rows = list(_unsent_events().filter(id__gt=after, id__lte=upto, message__in=readable)[: limit + 1])
    next_since = rows[limit - 1].id if len(rows) > limit else None
    frames = [events.hub_event(row.id, row.kind, row.message)["envelope"] for row in rows[:limit]]
    return frames, upto, next_since
