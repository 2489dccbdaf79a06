from django.db import models
from django.utils import timezone


class Report(models.Model):
    """A reader's report against a message's poster.

    Kept after the message itself is purged (retention), as the record moderators and
    IP reputation rely on; hence the copied ids rather than a cascading foreign key.
    """

    message = models.ForeignKey("chat.Message", on_delete=models.SET_NULL, null=True, related_name="reports")
    message_uuid = models.UUIDField("reported message id")
    reported_fingerprint = models.CharField(max_length=160, db_index=True)
    poster_ip = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    reporter_key = models.CharField("reporter's composite key", max_length=64)
    reporter_network = models.CharField("reporter's network", max_length=64, blank=True, help_text="IPv4 /24 or IPv6 /48.")
    counted = models.BooleanField(
        default=True, help_text="False: not counted towards automatic action (the reporter was shadowbanned or automated)."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message_uuid", "reporter_key"], name="one_report_per_reporter_per_message")
        ]

    def __str__(self):
        return f"Report on {self.reported_fingerprint} ({self.created_at:%Y-%m-%d %H:%M})"


class EnforcementQuerySet(models.QuerySet):
    def active(self):
        now = timezone.now()
        return self.filter(lifted_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class Reason(models.TextChoices):
    HONEYPOT = "honeypot", "Honeypot field filled"
    CONTENT_FILTER = "content_filter", "Repeated content-filter violations"
    BURST_PROFILER = "burst_profiler", "Burst profiler (scripted access)"
    BURST_LIMIT = "burst_limit", "Burst of write requests"
    REPORTS = "reports", "Reported by distinct readers"
    MODERATOR = "moderator", "Moderator"


class Shadowban(models.Model):
    """The durable record of a shadowban; Redis holds the copy enforced on the hot path."""

    class Target(models.TextChoices):
        KEY = "key", "Composite key"
        FINGERPRINT = "fingerprint", "Fingerprint"

    target_type = models.CharField(max_length=16, choices=Target.choices)
    target = models.CharField(max_length=128, db_index=True)
    reason = models.CharField(max_length=32, choices=Reason.choices)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: permanent.")
    lifted_at = models.DateTimeField(null=True, blank=True)

    objects = EnforcementQuerySet.as_manager()

    def __str__(self):
        return f"Shadowban of {self.get_target_type_display().lower()} {self.target[:16]} ({self.reason})"


class IPBlock(models.Model):
    """The durable record of an IP block; Redis holds the copy enforced on the hot path."""

    ip = models.GenericIPAddressField(db_index=True)
    reason = models.CharField(max_length=32, choices=Reason.choices)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: permanent.")
    lifted_at = models.DateTimeField(null=True, blank=True)

    objects = EnforcementQuerySet.as_manager()

    class Meta:
        verbose_name = "IP block"

    def __str__(self):
        return f"Block of {self.ip} ({self.reason})"


class BotDetection(models.Model):
    """A client flagged as automated, for moderators to review."""

    rule = models.CharField(max_length=32)
    composite_key = models.CharField(max_length=64, db_index=True)
    ip = models.GenericIPAddressField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.rule} from {self.ip}"


class ModerationCase(models.Model):
    """What reports did automatically to one fingerprint, waiting for a moderator.

    Automatic outcomes are temporary (REPORTS_REVIEW_SECONDS): upholding makes the
    shadowban permanent; dismissing lifts it and restores the posts reports deleted.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending review"
        UPHELD = "upheld", "Upheld"
        DISMISSED = "dismissed", "Dismissed"

    fingerprint = models.CharField(max_length=160, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    shadowban = models.ForeignKey(Shadowban, on_delete=models.SET_NULL, null=True, blank=True, related_name="cases")
    opened_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=150, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["fingerprint"], condition=models.Q(status="pending"), name="one_pending_case_per_fingerprint"
            )
        ]

    def __str__(self):
        return f"Reports on {self.fingerprint[:16]} ({self.get_status_display().lower()})"
