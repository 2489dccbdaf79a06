"""Django's PostgreSQL backend (as counted by django-prometheus) on DeadlineConnections.

``ENGINE = "core.dbdeadline"`` (kirb_project/settings.py picks it for
PostgreSQL); everything but how connections are made is the parent's.
"""

from django_prometheus.db.backends.postgresql import base

from core import dbdeadline


class DatabaseWrapper(base.DatabaseWrapper):
    Database = dbdeadline.driver
