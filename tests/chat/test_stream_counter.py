"""The event-log counter (chat.stream._next_event_id): one UPDATE ... RETURNING where the
database has it, the UPDATE and SELECT elsewhere, the same ids either way."""

import time

import pytest
from django.db import transaction

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
