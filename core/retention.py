"""Deleting what has outlived its retention, the same way for every kind of row."""

import logging

from django.db import transaction

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000  # rows per transaction: a large purge never holds the database for long


def purge(querysets, *, what, dry_run=False, batch_size=BATCH_SIZE):
    """Delete the rows of ``querysets`` in batches (with ``dry_run``, only count them) and
    log one line naming ``what``; returns how many. Rows of other models that the
    deletion cascades to are not counted."""
    if dry_run:
        return sum(queryset.count() for queryset in querysets)
    purged = 0
    for queryset in querysets:
        model = queryset.model
        while ids := list(queryset.values_list("pk", flat=True)[:batch_size]):
            with transaction.atomic(using=queryset.db):
                _, per_model = model._base_manager.filter(pk__in=ids).delete()
            purged += per_model.get(model._meta.label, 0)
    if purged:
        logger.info("purged %d %s", purged, what)
    return purged
