"""Public ids apart from fingerprints, city keys, and per-city views (issue: krib client compatibility).

Until now ``browser_id`` held the poster's raw fingerprint and was published; it becomes
``poster_fingerprint`` (never published), and existing posts get an opaque public id.
"""

import hashlib
import hmac

from django.conf import settings
from django.db import migrations, models


def fill_public_ids_and_city_keys(apps, schema_editor):
    Message = apps.get_model("chat", "Message")
    for message in Message.objects.all().only("id", "poster_key", "location").iterator():
        public_id = hmac.new(settings.SERVER_SECRET.encode(), f"public-id|{message.poster_key}".encode(), hashlib.sha256)
        Message.objects.filter(id=message.id).update(
            public_id=public_id.hexdigest()[:24],
            city_key=" ".join(message.location.split()).casefold(),
        )


class Migration(migrations.Migration):
    dependencies = [("chat", "0001_initial")]

    operations = [
        migrations.RenameField("message", "browser_id", "poster_fingerprint"),
        migrations.AlterField(
            "message",
            "poster_fingerprint",
            models.CharField(db_index=True, max_length=160, verbose_name="poster's fingerprint"),
        ),
        migrations.AddField(
            "message",
            "public_id",
            models.CharField(db_index=True, default="", max_length=128, verbose_name="poster's public id"),
            preserve_default=False,
        ),
        migrations.AddField(
            "message",
            "city_key",
            models.CharField(blank=True, default="", max_length=64, help_text="The city's feed: chat.cities.city_key."),
            preserve_default=False,
        ),
        migrations.AlterField(
            "message",
            "location",
            models.CharField(blank=True, help_text="As the poster's client spelled it.", max_length=64, verbose_name="city"),
        ),
        migrations.RunPython(fill_public_ids_and_city_keys, migrations.RunPython.noop),
        migrations.RemoveIndex("message", "message_city_latest"),
        migrations.AddIndex("message", models.Index(fields=["city_key", "created_at"], name="message_city_latest")),
        migrations.CreateModel(
            name="CityView",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField()),
                ("city_key", models.CharField(max_length=64)),
                ("city", models.CharField(max_length=64, verbose_name="spelling")),
                ("viewer_key", models.CharField(max_length=64)),
            ],
            options={
                "indexes": [models.Index(fields=["day", "city_key"], name="view_day_city")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("day", "city_key", "viewer_key"), name="one_view_per_viewer_per_city_per_day"
                    )
                ],
            },
        ),
    ]
