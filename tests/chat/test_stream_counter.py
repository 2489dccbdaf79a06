"""The event-log counter (chat.stream._next_event_id): one UPDATE ... RETURNING where the
database has it, the UPDATE and SELECT elsewhere, the same ids either way."""

import time

import pytest
from django.db import connection, transaction

from chat import stream
from chat.models import StreamCounter, StreamEvent

pytestmark = pytest.mark.django_db(transaction=True)


def next_ids(count):
    ids = []
    for _ in range(count):
        with transaction.atomic():
            ids.append(stream._next_event_id())
    return ids


def test_ids_follow_the_counter_row_one_by_one(monkeypatch):
    counter, _ = StreamCounter.objects.get_or_create(id=stream.COUNTER_ID)  # other tests may flush it
    start = counter.last_event_id
    returning = next_ids(3)
    monkeypatch.setattr(stream, "_UPDATE_RETURNS", {})  # the two-statement path
    two_statements = next_ids(3)
    assert returning + two_statements == list(range(start + 1, start + 7))
    assert StreamCounter.objects.get(id=stream.COUNTER_ID).last_event_id == start + 6


@pytest.mark.parametrize("returning", [True, False])
def test_a_missing_counter_row_starts_again_after_the_clock(monkeypatch, returning):
    if not returning:
        monkeypatch.setattr(stream, "_UPDATE_RETURNS", {})
    StreamCounter.objects.all().delete()
    before_ms = int(time.time() * 1000)
    first, second = next_ids(2)
    assert first >= before_ms and second == first + 1
    assert StreamCounter.objects.get(id=stream.COUNTER_ID).last_event_id == second
    assert not StreamEvent.objects.exists()


def test_the_single_statement_is_used_on_sqlite_and_postgresql():
    vendor = transaction.get_connection().vendor
    if vendor not in ("sqlite", "postgresql"):
        pytest.skip("another database: the two-statement path")
    assert stream._UPDATE_RETURNS[vendor]


def test_an_event_is_stored_as_the_orm_would_store_it():
    from chat import events
    from chat.models import Message

    message = Message.objects.create(
        public_id="counter-test", poster_fingerprint="counter-test", message="Counter test", message_type="offered",
        location="Pune", city_key="pune", poster_key="d" * 64,
    )
    with transaction.atomic():
        stream._insert_event(9_000_000_001, events.MESSAGE, message)
        StreamEvent.objects.create(id=9_000_000_002, kind=events.MESSAGE, message=message)
    raw, orm = StreamEvent.objects.filter(id__gte=9_000_000_001).order_by("id").values("kind", "message_id", "created_at")
    assert raw["kind"] == orm["kind"] and raw["message_id"] == orm["message_id"] == message.id
    assert raw["created_at"].tzinfo is not None and 0 <= (orm["created_at"] - raw["created_at"]).total_seconds() < 5
    with connection.cursor() as cursor:  # the same text in the table, not only after conversion
        cursor.execute(f"SELECT message_id, created_at FROM {StreamEvent._meta.db_table} WHERE id >= 9000000001 ORDER BY id")
        (raw_message, raw_created), (orm_message, orm_created) = cursor.fetchall()
    assert raw_message == orm_message and type(raw_created) is type(orm_created)
