"""The rules of the housing feed. Views and consumers only translate to and from here.

Every function takes the caller's ``Identity`` (security.identity) and plain data, and
returns plain data or raises a ``KirbError``.
"""

import datetime
import logging
import uuid

from django.db import transaction
from django.db.models import Count, Min
from django.utils import timezone

from chat import events, stats, stream
from chat.forms import HistoryQueryForm, PostMessageForm, ReportForm
from chat.models import Message
from core import metrics, retention
from core.conf import kirb_setting
from core.errors import InvalidInput, NotFound
from security import policy, reports

logger = logging.getLogger(__name__)

# security's verdict on who may see a post, as stored.
VISIBILITY_OF = {
    policy.Audience.EVERYONE: Message.Visibility.PUBLIC,
    policy.Audience.POSTERS_NETWORK: Message.Visibility.THROTTLED,
    policy.Audience.POSTER_ONLY: Message.Visibility.SHADOWBANNED,
    policy.Audience.REVIEW: Message.Visibility.HELD,
}


# --- Posting and reading -------------------------------------------------------------


def post_message(identity, data):
    """Store a post and broadcast it once committed; returns the poster's view of it.

    The identity (header fingerprint and IP) answers for the post; the body's
    ``browser_id`` is only the public id readers see, echoed exactly as sent.
    """
    policy.admit_action(identity, "post")
    cleaned = PostMessageForm.validate(data)
    location, city_key = cleaned["location"]
    screening = policy.screen_post(identity, cleaned["message"], honeypot=cleaned["website"])
    with policy.post_slot_returned_on_failure(identity), transaction.atomic():
        message = Message.objects.create(
            public_id=cleaned["browser_id"] or identity.public_id,
            poster_fingerprint=identity.fingerprint,
            message=cleaned["message"],
            message_type=cleaned["message_type"],
            phone=cleaned["phone"],
            location=location,
            city_key=city_key,
            poster_key=identity.key,
            poster_ip=identity.ip,
            visibility=VISIBILITY_OF[screening.audience],
            review_reason=screening.review_reason,
        )
        stream.record(events.MESSAGE, message)  # published on commit, with its event id
    return message.as_wire(include_phone=True)


def history(identity, query):
    """Messages visible to ``identity``, oldest first: the newest ``limit`` before the cursor.

    Without ``limit``, every visible message within retention (what krib's client,
    which never pages, expects), up to HISTORY_MAX_MESSAGES. Reading a city's feed
    counts as a view of that city (stats).
    """
    params = HistoryQueryForm.validate(query)
    location, city_key = params["location"]
    messages = Message.objects.visible_to(identity).in_city(city_key)
    before = params["before"]
    if isinstance(before, uuid.UUID):
        cursor = _cursor(identity, before, NotFound("before: no message with this id.", code="unknown_message"))
        messages = messages.before(cursor)
    elif before is not None:
        messages = messages.filter(created_at__lt=datetime.datetime.fromtimestamp(before, datetime.UTC))
    limit = params["limit"]
    if limit is None:
        limit = kirb_setting("HISTORY_MAX_MESSAGES")
        messages = messages.filter(created_at__gte=timezone.now() - datetime.timedelta(hours=kirb_setting("MESSAGE_RETENTION_HOURS")))
    newest = messages.order_by("-created_at", "-id")[:limit]
    if city_key:
        stats.count_city_view(identity, location, city_key)
    return [message.as_wire() for message in reversed(newest)]


def _cursor(identity, message_id, unknown):
    """The message a cursor names, through the same visibility rule as history.

    A shadowbanned post is unknown to everyone but its author, so a cursor cannot be
    used to tell that it exists.
    """
    cursor = Message.objects.known_to(identity).filter(id=message_id).first()
    if cursor is None:
        raise unknown
    return cursor


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
    # The public id only has to match what readers were shown; the report lands on the
    # stored poster identity, never on whoever else sends that id.
    if cleaned["reported_browser_id"] != message.public_id:
        raise InvalidInput("reported_browser_id is not the poster of this message.", code="fingerprint_mismatch")
    if message.poster_key == identity.key or message.poster_fingerprint == identity.fingerprint:
        raise InvalidInput("You cannot report your own message.", code="own_message")
    policy.check_report_ceiling(identity)
    post = reports.ReportedPost(message.id, message.poster_fingerprint, message.poster_ip)
    outcome = reports.record_report(identity, post, counts=policy.reporter_counts(identity))
    if outcome.delete_message and not message.is_deleted:
        delete_message(message)
    # krib's client reads reports_on_ip; it says nothing about how close any threshold is.
    return {"success": True, "message": "Thank you, the report was recorded.", "reports_on_ip": 1}


def delete_message(message):
    """Soft-delete, and tell every live client to drop it."""
    with transaction.atomic():
        Message.objects.filter(id=message.id).update(is_deleted=True)
        message.is_deleted = True
        stream.record(events.MESSAGE_DELETED, message)


# --- Moderation and retention (the admin and manage.py commands) ----------------------


def restore_message(message):
    """Undo ``delete_message``, and broadcast the message again once committed.

    The message keeps its visibility: a shadowbanned post comes back to its author only.
    """
    with transaction.atomic():
        Message.objects.filter(id=message.id).update(is_deleted=False)
        message.is_deleted = False
        stream.record(events.MESSAGE, message)  # published on commit, with its event id


def approve_message(message):
    """A moderator let a held post through: it is public from now on, and broadcast.

    Returns False (and changes nothing) when the post is no longer held (approved, or
    rejected: deleted).
    """
    with transaction.atomic():
        if not Message.objects.filter(id=message.id, visibility=Message.Visibility.HELD, is_deleted=False).update(
            visibility=Message.Visibility.PUBLIC
        ):
            return False
        message.visibility = Message.Visibility.PUBLIC
        stream.record(events.MESSAGE, message)  # published on commit, with its event id
    logger.info("held message %s approved", message.id)
    return True


def restore_after_dismissal(sender, *, message_ids, **kwargs):
    """A moderator dismissed the reports on a poster: bring back what they deleted."""
    for message in Message.objects.filter(id__in=message_ids, is_deleted=True):
        restore_message(message)


def purge_messages(hours, *, dry_run=False):
    """Hard-delete the messages older than ``hours``; returns ``(count, cutoff)``.

    Reports (their message becomes NULL), shadowbans, IP blocks and bot detections are
    kept.
    """
    cutoff = timezone.now() - datetime.timedelta(hours=hours)
    old = Message.objects.filter(created_at__lt=cutoff)
    return retention.purge([old], what=f"messages older than {cutoff.isoformat()}", dry_run=dry_run), cutoff


def recent_message_counts(hours=24):
    """Messages posted in the last ``hours``: all, public and live, deleted."""
    recent = Message.objects.filter(created_at__gte=timezone.now() - datetime.timedelta(hours=hours))
    return {
        "total": recent.count(),
        "public": recent.live().filter(visibility=Message.Visibility.PUBLIC).count(),
        "deleted": recent.filter(is_deleted=True).count(),
    }


def measure_review_queue():
    """Set the review queue's gauges from the database: a held post is seen by its
    author only until a moderator decides, so a queue left waiting is an outage of
    its own (deploy/prometheus/alerts.yml, KirbReviewQueueWaiting)."""
    queue = Message.objects.awaiting_review().aggregate(posts=Count("id"), oldest=Min("created_at"))
    metrics.review_queue_posts.set(queue["posts"])
    waited = timezone.now() - queue["oldest"] if queue["oldest"] else datetime.timedelta()
    metrics.review_queue_oldest_age_seconds.set(max(0.0, waited.total_seconds()))
