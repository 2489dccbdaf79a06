"""The stream's event log (issue 11: event ids in commit order, replays with deletions).

Existing messages get events in (created_at, id) order, a deletion event after each
deleted one, and the counter starts after them.
"""

from django.db import migrations, models
import django.db.models.deletion
import django.utils.timezone


def backfill_events(apps, schema_editor):
    Message = apps.get_model("chat", "Message")
    StreamEvent = apps.get_model("chat", "StreamEvent")
    StreamCounter = apps.get_model("chat", "StreamCounter")
    next_id = 1
    batch = []
    for message_id, is_deleted, created_at in Message.objects.order_by("created_at", "id").values_list(
        "id", "is_deleted", "created_at"
    ).iterator():
        batch.append(StreamEvent(id=next_id, kind="message", message_id=message_id, created_at=created_at))
        next_id += 1
        if is_deleted:
            batch.append(StreamEvent(id=next_id, kind="message_deleted", message_id=message_id, created_at=created_at))
            next_id += 1
        if len(batch) >= 1000:
            StreamEvent.objects.bulk_create(batch)
            batch = []
    StreamEvent.objects.bulk_create(batch)
    StreamCounter.objects.update_or_create(id=1, defaults={"last_event_id": next_id - 1})


class Migration(migrations.Migration):
    dependencies = [("chat", "0002_public_id_city_key")]

    operations = [
        migrations.CreateModel(
            name="StreamCounter",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("last_event_id", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name="StreamEvent",
            fields=[
                ("id", models.BigIntegerField(primary_key=True, serialize=False)),
                (
                    "kind",
                    models.CharField(
                        choices=[("message", "Message (posted or restored)"), ("message_deleted", "Message deleted")],
                        max_length=32,
                    ),
                ),
                (
                    "message",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="stream_events",
                        to="chat.message",
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
        ),
        migrations.RunPython(backfill_events, migrations.RunPython.noop),
    ]
