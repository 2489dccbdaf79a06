"""Reports by readers against a message's poster."""

import logging

from django.db import IntegrityError, transaction

from security.models import Report

logger = logging.getLogger("kirb.security")


def record_report(reporter, message):
    """Store one report per reporter per message; returns the reports on the poster's IP.

    Reporting the same message again is accepted and changes nothing.
    """
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
        pass
    else:
        logger.info("Report on message %s by %s", message.id, reporter.key)
    if not message.poster_ip:
        return 0
    return Report.objects.filter(poster_ip=message.poster_ip).values("reporter_key").distinct().count()
