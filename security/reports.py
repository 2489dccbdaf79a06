"""Reports by readers: distinct reporters of a fingerprint lead to a ban, then deletion.

A reporter is counted once per reported fingerprint however often they report (a Redis
set of composite keys); each report also counts against the IP the message was posted
from (security.reputation), never the reporter's.
"""

import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from kirb_project.conf import kirb_setting
from security import reputation, shadowban, store
from security.models import Reason, Report

logger = logging.getLogger("kirb.security")


@dataclass(frozen=True)
class ReportOutcome:
    reports_on_ip: int
    delete_message: bool


def _reporters_key(fingerprint):
    return store.key("reports", "fingerprint", fingerprint)


def record_report(reporter, message):
    """Store the report and apply the thresholds; the caller deletes the message if told."""
    try:
        with transaction.atomic():
            Report.objects.create(
                message=message,
                message_uuid=message.id,
                reported_fingerprint=message.browser_id,
                poster_ip=message.poster_ip,
                reporter_key=reporter.key,
            )
    except IntegrityError:
        pass  # the same reporter again: recorded once, counted once
    else:
        logger.info("report on message %s by key=%s", message.id, reporter.key)

    reporters = store.add_distinct(_reporters_key(message.browser_id), reporter.key)
    reports_on_ip = reputation.record_report(message.poster_ip, reporter.key) if message.poster_ip else 0
    # ">=" and not "==": after a moderator lifts the ban, the next distinct reporter bans again.
    if reporters >= kirb_setting("REPORTS_SHADOWBAN_THRESHOLD") and not shadowban.fingerprint_is_shadowbanned(
        message.browser_id
    ):
        shadowban.shadowban_fingerprint(message.browser_id, reason=Reason.REPORTS)
    return ReportOutcome(
        reports_on_ip=reports_on_ip,
        delete_message=reporters >= kirb_setting("REPORTS_DELETE_THRESHOLD"),
    )
