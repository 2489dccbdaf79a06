"""Signals security sends, so that apps above it can react without security knowing them."""

from django.dispatch import Signal

# A moderator dismissed a report case: ``case`` and the reported ``message_ids`` (UUIDs),
# whose deletion by reports chat undoes.
reports_dismissed = Signal()
