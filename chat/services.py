"""The rules of the housing feed. Views and consumers only translate to and from here.

Every function takes the caller's ``Identity`` (security.identity) and plain data, and
returns plain data or raises a ``KirbError``.
"""

import datetime
import logging
import math
import uuid
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from chat import events
from chat.forms import CityStatsQueryForm, HistoryQueryForm, PostMessageForm, ReportForm, TrackVisitorForm
from chat.models import CityVisit, Message
from kirb_project import metrics
from kirb_project.conf import kirb_setting
from kirb_project.errors import InvalidInput, NotFound
from security import policy, reports
from security.identity import UNKNOWN_FINGERPRINT

logger = logging.getLogger(__name__)


# --- Posting and reading -------------------------------------------------------------


def post_message(identity, data):
    """Store a post and broadcast it once committed; returns the poster's view of it."""
    policy.admit_action(identity, "post")
    cleaned = PostMessageForm.validate(data)
    identity = _poster_identity(identity, cleaned["browser_id"])
    visibility = policy.screen_post(identity, cleaned["message"], honeypot=cleaned["website"])
    with transaction.atomic():
        message = Message.objects.create(
            browser_id=identity.fingerprint,
            message=cleaned["message"],
            message_type=cleaned["message_type"],
            phone=cleaned["phone"],
            location=cleaned["location"],
            poster_key=identity.key,
            poster_ip=identity.ip,
            visibility=visibility,
        )
        transaction.on_commit(partial(events.publish_message, message))
    return message.as_wire(include_phone=True)


def _poster_identity(identity, browser_id):
    """The fingerprint is the header; a body ``browser_id`` stands in only without one."""
    if not browser_id or browser_id == identity.fingerprint:
        return identity
    if identity.fingerprint != UNKNOWN_FINGERPRINT:
        raise InvalidInput(
            "browser_id does not match the X-Browser-Fingerprint header.", code="fingerprint_mismatch"
        )
    return identity.with_fingerprint(browser_id)


def history(identity, query):
    """Messages visible to ``identity``, oldest first: the newest ``limit`` before the cursor."""
    params = HistoryQueryForm.validate(query)
    messages = Message.objects.visible_to(identity).in_city(params["location"])
    before = params["before"]
    if isinstance(before, uuid.UUID):
        cursor = Message.objects.filter(id=before).first()
        if cursor is None:
            raise NotFound("before: no message with this id.", code="unknown_message")
        messages = messages.before(cursor)
    elif before is not None:
        messages = messages.filter(created_at__lt=datetime.datetime.fromtimestamp(before, datetime.UTC))
    newest = messages.order_by("-created_at", "-id")[: params["limit"]]
    return [message.as_wire() for message in reversed(newest)]


def missed_since(identity, city, since_id):
    """What a reconnecting client missed after message ``since_id``, oldest first.

    Returns ``(messages, truncated)``; raises NotFound when the message is unknown
    (purged, or never existed), in which case the client should reload history.
    """
    cursor = Message.objects.filter(id=since_id).first()
    if cursor is None:
        raise NotFound("since: no message with this id; reload the history.", code="unknown_since")
    limit = kirb_setting("REPLAY_MAX_MESSAGES")
    messages = Message.objects.visible_to(identity).in_city(city)
    batch = list(messages.after(cursor).oldest_first()[: limit + 1])
    return batch[:limit], len(batch) > limit


def reveal_phone(identity, message_id):
    """The phone of a message, within the reveal limit.

    Probing ids counts towards the write limits, but only a phone actually shown uses
    up one of the reveals.
    """
    policy.admit_action(identity, f"reveal:{str(message_id)[:64]}")
    message = _visible_message(identity, message_id)
    if not message.phone:
        raise NotFound("This message has no phone number.", code="no_phone")
    reveals_remaining = policy.screen_reveal(identity)
    metrics.contact_reveals_total.inc()
    logger.info("phone of message %s revealed to key=%s", message.id, identity.key)
    return {"phone": message.phone, "reveals_remaining": reveals_remaining}


def _visible_message(identity, message_id):
    try:
        message_uuid = uuid.UUID(str(message_id))
    except ValueError:
        raise NotFound("There is no message with this id.", code="unknown_message") from None
    message = Message.objects.visible_to(identity).filter(id=message_uuid).first()
    if message is None:
        raise NotFound("There is no message with this id.", code="unknown_message")
    return message


def cooldown(identity):
    return policy.cooldown(identity)


# --- Reports -------------------------------------------------------------------------


def report_message(identity, data):
    cleaned = ReportForm.validate(data)
    policy.admit_action(identity, f"report:{cleaned['message_id']}")
    message = _visible_message(identity, cleaned["message_id"])
    if cleaned["reported_browser_id"] != message.browser_id:
        raise InvalidInput("reported_browser_id is not the poster of this message.", code="fingerprint_mismatch")
    if message.poster_key == identity.key or message.browser_id == identity.fingerprint:
        raise InvalidInput("You cannot report your own message.", code="own_message")
    outcome = reports.record_report(identity, message)
    if outcome.delete_message and not message.is_deleted:
        delete_message(message)
    return {"success": True, "message": "Thank you, the report was recorded.", "reports_on_ip": outcome.reports_on_ip}


def delete_message(message):
    """Soft-delete, and tell every live client to drop it."""
    with transaction.atomic():
        Message.objects.filter(id=message.id).update(is_deleted=True)
        message.is_deleted = True
        transaction.on_commit(partial(events.publish_message_deleted, message))


# --- Visitors and stats ---------------------------------------------------------------


def track_visitor(identity, data):
    policy.admit_action(identity, None)  # fired by every page load: not an action to profile
    cleaned = TrackVisitorForm.validate(data)
    today = timezone.now().date()
    city = cleaned["location"]
    try:
        with transaction.atomic():
            CityVisit.objects.create(day=today, visitor_key=identity.key, city=city)
    except IntegrityError:  # already counted today; remember the latest city looked at
        if city:
            CityVisit.objects.filter(day=today, visitor_key=identity.key).update(city=city)
    return {"success": True, "message": "Visit recorded."}


def daily_stats():
    now = timezone.now()
    start_of_day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "unique_visitors": CityVisit.objects.filter(day=now.date()).count(),
        "message_count": Message.objects.live()
        .filter(visibility=Message.Visibility.PUBLIC, created_at__gte=start_of_day)
        .count(),
    }


def city_stats(query):
    """Views per city over the stats window, most viewed first."""
    params = CityStatsQueryForm.validate(query)
    window_days = kirb_setting("STATS_WINDOW_DAYS")
    since = timezone.now().date() - datetime.timedelta(days=window_days - 1)
    rows = (
        CityVisit.objects.filter(day__gte=since)
        .exclude(city="")
        .values("city")
        .annotate(views=Count("id"))
        .order_by("-views", "city")
    )
    stats = [
        {"city": row["city"], "views": row["views"], "daily_average": _per_day(row["views"], window_days)}
        for row in rows
    ]
    current = params["current_city"]
    if current and all(row["city"] != current for row in stats):
        stats.append({"city": current, "views": 0, "daily_average": 0.0})
    return stats


def _per_day(views, days):
    return math.floor(views / days * 10) / 10


# --- Moderation and retention (the admin and manage.py commands) ----------------------


def restore_message(message):
    """Undo ``delete_message``, and broadcast the message again once committed.

    The message keeps its visibility: a shadowbanned post comes back to its author only.
    """
    with transaction.atomic():
        Message.objects.filter(id=message.id).update(is_deleted=False)
        message.is_deleted = False
        transaction.on_commit(partial(events.publish_message, message))


def purge_messages(hours, *, dry_run=False, batch_size=1000):
    """Hard-delete the messages older than ``hours``; returns ``(count, cutoff)``.

    Reports (their message becomes NULL), shadowbans, IP blocks and bot detections are
    kept. Deletes in batches so that a large purge never holds the database for long.
    """
    cutoff = timezone.now() - datetime.timedelta(hours=hours)
    old = Message.objects.filter(created_at__lt=cutoff)
    if dry_run:
        return old.count(), cutoff
    purged = 0
    while True:
        ids = list(old.values_list("id", flat=True)[:batch_size])
        if not ids:
            break
        with transaction.atomic():
            _, per_model = Message.objects.filter(id__in=ids).delete()
        purged += per_model.get(Message._meta.label, 0)
    if purged:
        logger.info("purged %d messages older than %s", purged, cutoff.isoformat())
    return purged, cutoff


def recent_message_counts(hours=24):
    """Messages posted in the last ``hours``: all, public and live, deleted."""
    recent = Message.objects.filter(created_at__gte=timezone.now() - datetime.timedelta(hours=hours))
    return {
        "total": recent.count(),
        "public": recent.live().filter(visibility=Message.Visibility.PUBLIC).count(),
        "deleted": recent.filter(is_deleted=True).count(),
    }
