"""Reports by readers: distinct reporter networks lead to a temporary ban, then deletion.

What a report can do is bounded so that it cannot be forged into a weapon:
- reporters are counted by *network* (IPv4 /24, IPv6 /48), once per reported
  fingerprint, so one address inventing fingerprints counts once;
- reports from shadowbanned or automated clients are stored but not counted;
- a poster without a fingerprint (``unknown@<network>``) stands for everyone on that
  network who sends none: reports on it are stored for moderators, never acted on;
- what reports do automatically is temporary (REPORTS_REVIEW_SECONDS) and opens a
  moderation case in the admin, where a moderator upholds or dismisses it.

Each counted report also counts against the network the message was posted from
(security.reputation), never the reporter's.
"""

import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.conf import kirb_setting
from security import moderation, reputation, shadowban, signals, store
from security.identity import is_missing_fingerprint
from security.models import ModerationCase, Reason, Report, Shadowban

logger = logging.getLogger("kirb.security")


@dataclass(frozen=True)
class ReportOutcome:
    delete_message: bool


@dataclass(frozen=True)
class ReportedPost:
    """What security needs to know of a reported post (chat maps its message to this)."""

    message_id: object
    poster_fingerprint: str
    poster_ip: str


def _reporters_key(fingerprint):
    return store.key("reports", "fingerprint", fingerprint)


def record_report(reporter, post, *, counts):
    """Store the report and apply the thresholds; the caller deletes the post if told.

    ``counts``: whether this reporter may move automatic action at all.
    """
    try:
        with transaction.atomic():
            Report.objects.create(
                message_id=post.message_id,
                message_uuid=post.message_id,
                reported_fingerprint=post.poster_fingerprint,
                poster_ip=post.poster_ip,
                reporter_key=reporter.key,
                reporter_network=reporter.reporter_network,
                counted=counts,
            )
    except IntegrityError:
        return ReportOutcome(delete_message=False)  # the same reporter again: counted once
    logger.info("report on message %s by key=%s counted=%s", post.message_id, reporter.key, counts)
    if not counts or is_missing_fingerprint(post.poster_fingerprint):
        return ReportOutcome(delete_message=False)

    reporters = store.add_distinct(_reporters_key(post.poster_fingerprint), reporter.reporter_network)
    if post.poster_ip:
        reputation.record_report(post.poster_ip, reporter.reporter_network)
    # ">=" and not "==": after a moderator lifts the ban, the next distinct reporter bans again.
    if reporters >= kirb_setting("REPORTS_SHADOWBAN_THRESHOLD") and not shadowban.fingerprint_is_shadowbanned(
        post.poster_fingerprint
    ):
        _open_case(post.poster_fingerprint)
    return ReportOutcome(delete_message=reporters >= kirb_setting("REPORTS_DELETE_THRESHOLD"))


def _open_case(fingerprint):
    """A temporary shadowban, and a pending case for a moderator to decide."""
    ban = shadowban.shadowban_fingerprint(fingerprint, reason=Reason.REPORTS, seconds=kirb_setting("REPORTS_REVIEW_SECONDS"))
    case = ModerationCase.objects.filter(fingerprint=fingerprint, status=ModerationCase.Status.PENDING).first()
    if case is None:
        try:
            with transaction.atomic():
                ModerationCase.objects.create(fingerprint=fingerprint, shadowban=ban)
        except IntegrityError:
            pass  # another instance opened it at the same moment
    else:
        case.shadowban = ban
        case.save(update_fields=["shadowban"])


def uphold(case, moderator):
    """The reports were right: the shadowban becomes permanent."""
    for ban in Shadowban.objects.active().filter(target_type=Shadowban.Target.FINGERPRINT, target=case.fingerprint):
        moderation.make_permanent(ban)
    _decide(case, ModerationCase.Status.UPHELD, moderator)


def dismiss(case, moderator):
    """The reports were wrong: lift the shadowban; chat restores the deleted posts."""
    moderation.lift_all(Shadowban.objects.filter(target_type=Shadowban.Target.FINGERPRINT, target=case.fingerprint, reason=Reason.REPORTS))
    store.redis().delete(_reporters_key(case.fingerprint))
    _decide(case, ModerationCase.Status.DISMISSED, moderator)
    message_ids = list(Report.objects.filter(reported_fingerprint=case.fingerprint).values_list("message_uuid", flat=True))
    signals.reports_dismissed.send(sender=ModerationCase, case=case, message_ids=message_ids)


def _decide(case, status, moderator):
    case.status = status
    case.decided_at = timezone.now()
    case.decided_by = moderator
    case.save(update_fields=["status", "decided_at", "decided_by"])
    logger.warning("moderation case %s %s by %s", case.pk, status, moderator)
