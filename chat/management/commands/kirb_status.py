"""manage.py kirb_status: are this deployment's dependencies up, and what is it enforcing?"""

import asyncio
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor

from chat import services
from security import moderation, store


def safe_url(url):
    """``url`` without its password."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def timed(check):
    """Run ``check``; returns milliseconds taken."""
    start = time.perf_counter()
    check()
    return (time.perf_counter() - start) * 1000


def check_redis():
    if not store.redis().ping():
        raise RuntimeError("PING was not answered")


def check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        if cursor.fetchone() != (1,):
            raise RuntimeError("SELECT 1 did not return 1")


async def channel_round_trip(timeout):
    """Send a message to a new channel and receive it back; returns milliseconds."""
    layer = get_channel_layer()
    nonce = uuid.uuid4().hex

    async def round_trip():
        channel = await layer.new_channel("kirb-status")
        start = time.perf_counter()
        await layer.send(channel, {"type": "kirb.status", "nonce": nonce})
        received = await layer.receive(channel)
        if received.get("nonce") != nonce:
            raise RuntimeError("received someone else's message")
        return (time.perf_counter() - start) * 1000

    try:
        return await asyncio.wait_for(round_trip(), timeout)
    except TimeoutError:
        raise RuntimeError(f"no message back within {timeout:g} s") from None


class Command(BaseCommand):
    help = (
        "Check Redis, the database and the channel layer (with round-trip times), and show "
        "the active shadowbans and IP blocks and the last 24 hours' messages. Exits with "
        "status 1 when a dependency is down."
    )
    requires_system_checks = []  # a status check reports; it should run whatever else is wrong

    def add_arguments(self, parser):
        parser.add_argument(
            "--timeout", type=float, default=5.0, help="Seconds to wait for the channel-layer round trip (default 5)."
        )

    def handle(self, *args, timeout, **options):
        failures = []
        redis_url, database = safe_url(settings.REDIS_URL), self.database_name()

        def report(name, check, where, fix):
            try:
                milliseconds = check()
            except Exception as error:  # any failure of a dependency is what we report
                reason = str(error).rstrip(".") or type(error).__name__
                self.stdout.write(f"{name:<15}DOWN     {where}: {reason}")
                failures.append(f"{name} is down ({reason}): {fix}")
                return False
            self.stdout.write(f"{name:<15}ok {milliseconds:7.1f} ms  {where}")
            return True

        redis_up = report("Redis", lambda: timed(check_redis), redis_url, "start Redis or fix REDIS_URL")
        database_up = report(
            "Database", lambda: timed(check_database), database, "start the database or fix DATABASE_URL"
        )
        report(
            "Channel layer",
            lambda: async_to_sync(channel_round_trip)(timeout),
            "round trip through " + redis_url,
            "the channel layer uses REDIS_URL: start Redis or fix REDIS_URL",
        )

        if database_up:
            try:
                self.show_migrations(failures)
                self.show_counts(redis_up)
            except DatabaseError as error:
                self.stdout.write(f"{'Database':<15}unusable: {error}")
                if not any("migrate" in failure for failure in failures):
                    failures.append(f"The database answers but cannot be read ({error}): run `manage.py migrate`")
        if failures:
            raise CommandError("; ".join(failures) + ".")

    def show_migrations(self, failures):
        executor = MigrationExecutor(connection)
        unapplied = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if unapplied:
            names = ", ".join(f"{migration.app_label}.{migration.name}" for migration, _ in unapplied)
            self.stdout.write(f"{'Migrations':<15}{len(unapplied)} unapplied: {names}")
            failures.append(f"{len(unapplied)} database migration(s) not applied: run `manage.py migrate`")
        else:
            self.stdout.write(f"{'Migrations':<15}all applied")

    def show_counts(self, redis_up):
        counts = moderation.enforcement_counts()
        for name, records, targets, keys in [
            ("Shadowbans", counts["shadowbans"], counts["shadowban_targets"], counts["shadowban_keys"]),
            ("IP blocks", counts["ip_blocks"], counts["ip_block_targets"], counts["ip_block_keys"]),
        ]:
            line = f"{name:<15}{records} active in the database ({targets} targets), "
            if keys is None:
                line += "Redis unknown"
            else:
                line += f"{keys} enforced in Redis"
                if keys != targets:
                    line += "  <- differs: run `manage.py sync_bans`"
            self.stdout.write(line)
        if redis_up and counts["synced"] is False:
            self.stdout.write(f"{'':<15}Redis has no sync marker (it lost its data?): run `manage.py sync_bans`")
        messages = services.recent_message_counts(hours=24)
        self.stdout.write(
            f"{'Messages':<15}{messages['total']} in the last 24 h "
            f"({messages['public']} public, {messages['deleted']} deleted)"
        )

    @staticmethod
    def database_name():
        name = str(connection.settings_dict.get("NAME", ""))
        host = connection.settings_dict.get("HOST")
        return f"{connection.vendor} {host + '/' if host else ''}{name}"
