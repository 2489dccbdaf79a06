from django.db import models
from django.utils import timezone


class Report(models.Model):
    """A reader's report against a message's poster.

    Kept after the message itself is purged (retention), as the record moderators and
    IP reputation rely on; hence the copied ids rather than a cascading foreign key.
    """

    message = models.ForeignKey("chat.Message", on_delete=models.SET_NULL, null=True, related_name="reports")
    message_uuid = models.UUIDField("reported message id")
    reported_fingerprint = models.CharField(max_length=128, db_index=True)
    poster_ip = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    reporter_key = models.CharField("reporter's composite key", max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message_uuid", "reporter_key"], name="one_report_per_reporter_per_message")
        ]

    def __str__(self):
        return f"Report on {self.reported_fingerprint} ({self.created_at:%Y-%m-%d %H:%M})"
