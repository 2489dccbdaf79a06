import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone


def is_visible_to(identity, *, visibility, poster_key, poster_ip):
    """The rule of ``MessageQuerySet.visible_to`` for one live event (the hub's check)."""
    if visibility == Message.Visibility.PUBLIC or poster_key == identity.key:
        return True
    return visibility == Message.Visibility.THROTTLED and poster_ip == identity.ip


class MessageQuerySet(models.QuerySet):
    def live(self):
        return self.filter(is_deleted=False)

    def visible_to(self, identity):
        """What ``identity`` may read: public posts, plus its own shadowed ones.

        A shadowbanned author sees their posts as normal (same composite key); a
        shadow-throttled IP sees the posts made from that IP; nobody else sees either.
        """
        return self.live().known_to(identity)

    def known_to(self, identity):
        """``visible_to``, deleted posts included: what a cursor may name."""
        return self.filter(
            Q(visibility=Message.Visibility.PUBLIC)
            | Q(poster_key=identity.key)
            | Q(visibility=Message.Visibility.THROTTLED, poster_ip=identity.ip)
        )

    def awaiting_review(self):
        """The review queue: held posts nobody has approved or rejected yet."""
        return self.live().filter(visibility=Message.Visibility.HELD)

    def in_city(self, city_key):
        """Posts of one city (by ``chat.cities.city_key``); every city for ""."""
        return self.filter(city_key=city_key) if city_key else self

    def before(self, cursor):
        """Messages older than ``cursor`` in (created_at, id) order: a total order."""
        return self.filter(Q(created_at__lt=cursor.created_at) | Q(created_at=cursor.created_at, id__lt=cursor.id))

    def after(self, cursor):
        return self.filter(Q(created_at__gt=cursor.created_at) | Q(created_at=cursor.created_at, id__gt=cursor.id))

    def oldest_first(self):
        return self.order_by("created_at", "id")


class Message(models.Model):
    class Type(models.TextChoices):
        OFFERED = "offered", "Room offered"
        REQUESTED = "requested", "Room requested"

    class Visibility(models.TextChoices):
        PUBLIC = "public", "Public"
        # Seen only by the author (composite key): shadowbanned identities.
        SHADOWBANNED = "shadowbanned", "Shadowbanned (author only)"
        # Seen only from the poster's IP: risky IPs before a hard ban.
        THROTTLED = "throttled", "Shadow-throttled (poster's IP only)"
        # Seen only by the author until a moderator approves it (it becomes public) or
        # rejects it (deleted): posts the content filter is unsure of.
        HELD = "held", "Held for review (author only)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # What readers see and reports name: the id the poster's client gave itself, or
    # one derived from its identity (security.identity.public_id). No authority.
    public_id = models.CharField("poster's public id", max_length=128, db_index=True)
    # The identity behind the post, for bans and moderation; never published.
    poster_fingerprint = models.CharField("poster's fingerprint", max_length=160, db_index=True)
    message = models.TextField()
    message_type = models.CharField(max_length=16, choices=Type.choices)
    phone = models.CharField(max_length=20, blank=True)
    location = models.CharField("city", max_length=64, blank=True, help_text="As the poster's client spelled it.")
    city_key = models.CharField(max_length=64, blank=True, help_text="The city's feed: chat.cities.city_key.")
    created_at = models.DateTimeField(default=timezone.now)
    poster_key = models.CharField("poster's composite key", max_length=64, db_index=True)
    poster_ip = models.GenericIPAddressField("poster's IP", null=True, blank=True, db_index=True)
    visibility = models.CharField(max_length=16, choices=Visibility.choices, default=Visibility.PUBLIC)
    # Why the content filter wanted a moderator to see this post first (its review
    # reason), or "" when it did not.
    review_reason = models.CharField(max_length=64, blank=True)
    is_deleted = models.BooleanField(default=False)

    objects = MessageQuerySet.as_manager()

    class Meta:
        indexes = [
            # "Latest N in a city" and "all cities" history, and since= replay.
            models.Index(fields=["city_key", "created_at"], name="message_city_latest"),
            models.Index(fields=["created_at", "id"], name="message_latest"),
            # The review queue (awaiting_review), read at every scrape of /metrics.
            models.Index(
                fields=["created_at"], name="message_review_queue", condition=Q(visibility="held", is_deleted=False)
            ),
        ]

    def __str__(self):
        return f"{self.get_message_type_display()} in {self.location or 'any city'}: {self.message[:40]}"

    @property
    def timestamp(self):
        return int(self.created_at.timestamp())

    def as_wire(self, *, include_phone=False):
        """The message object of the wire contract; the phone only for its poster."""
        data = {
            "id": str(self.id),
            "browser_id": self.public_id,
            "message": self.message,
            "message_type": self.message_type,
            "timestamp": self.timestamp,
            "location": self.location,
            # Not in the krib client's contract, which ignores it: lets a page offer
            # "reveal" only where there is a number to reveal.
            "has_phone": bool(self.phone),
        }
        if self.awaits_review:
            # Only its author can see such a post: their page says why nobody else does.
            data["held_for_review"] = True
        if include_phone:
            data["phone"] = self.phone
        return data

    @property
    def awaits_review(self):
        """Held for a moderator, as its author is told. A shadowbanned author is told
        the same of a post the filter would have held, so that the hold cannot be used
        to tell a shadowban (their post, like all of theirs, stays theirs alone)."""
        return bool(self.review_reason) and self.visibility in (self.Visibility.HELD, self.Visibility.SHADOWBANNED)


class HeldMessage(Message):
    """The moderation queue of held posts (its own page in the admin)."""

    class Meta:
        proxy = True
        verbose_name = "held post"
        verbose_name_plural = "held posts (review queue)"


class CityVisit(models.Model):
    """One unique visitor (composite key) per UTC day (``/api/stats/daily``)."""

    day = models.DateField()
    visitor_key = models.CharField(max_length=64)
    city = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "visitor_key"], name="one_visit_per_visitor_per_day")
        ]
        indexes = [models.Index(fields=["day", "city"], name="visit_day_city")]


class CityView(models.Model):
    """One viewer (composite key) of one city's feed per UTC day (``/api/stats/cities``)."""

    day = models.DateField()
    city_key = models.CharField(max_length=64)
    city = models.CharField("spelling", max_length=64)
    viewer_key = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "city_key", "viewer_key"], name="one_view_per_viewer_per_city_per_day")
        ]
        indexes = [models.Index(fields=["day", "city_key"], name="view_day_city")]


class StreamEvent(models.Model):
    """The stream's event log: one row per event a live stream carries (docs/STREAM.md).

    Rows are appended by ``chat.stream.record`` inside the transaction of the change
    they announce, with ids from ``StreamCounter`` taken under its row lock, so ids
    increase in commit order: whoever sees event N committed sees every event below it.
    """

    class Kind(models.TextChoices):
        MESSAGE = "message", "Message (posted or restored)"
        MESSAGE_DELETED = "message_deleted", "Message deleted"

    id = models.BigIntegerField(primary_key=True)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    # Purging a message purges its events: there is nothing left to replay.
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="stream_events")
    created_at = models.DateTimeField(default=timezone.now)


class StreamCounter(models.Model):
    """One row: the last event id handed out. Its row lock serialises event writers
    from their event until their commit (that is what puts ids in commit order)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_event_id = models.BigIntegerField(default=0)
