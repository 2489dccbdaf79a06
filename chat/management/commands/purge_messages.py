"""manage.py purge_messages: the retention policy (run it from cron, e.g. hourly).

Also purges the visit/view statistics (STATS_RETENTION_DAYS) and, through security's
own function, the bot detections (BOT_DETECTION_RETENTION_DAYS)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from chat import services, stats
from core.commands import positive_number
from core.conf import kirb_setting
from security import audit


class Command(BaseCommand):
    help = (
        "Delete the messages older than --hours (default MESSAGE_RETENTION_HOURS, 48). "
        "Also deletes visit/view statistics older than STATS_RETENTION_DAYS (30) and bot "
        "detections older than BOT_DETECTION_RETENTION_DAYS (90). "
        "Reports, shadowbans and IP blocks are kept."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--hours",
            type=positive_number,
            default=None,
            help="Keep this many hours (default MESSAGE_RETENTION_HOURS).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Only count what would be deleted.")

    def handle(self, *args, hours=None, dry_run=False, **options):
        hours = kirb_setting("MESSAGE_RETENTION_HOURS") if hours is None else hours
        try:
            count, cutoff = services.purge_messages(hours, dry_run=dry_run)
            stats_days = kirb_setting("STATS_RETENTION_DAYS")
            stats_count, first_day_kept = stats.purge_stats(stats_days, dry_run=dry_run)
            bot_days = kirb_setting("BOT_DETECTION_RETENTION_DAYS")
            bot_count, bot_cutoff = audit.purge_bot_detections(bot_days, dry_run=dry_run)
        except DatabaseError as error:
            raise CommandError(
                f"The database is unavailable ({error}): check DATABASE_URL, then run this again."
            ) from None
        noun = "message" if count == 1 else "messages"
        when = f"older than {hours:g} hour{'' if hours == 1 else 's'} (before {cutoff:%Y-%m-%d %H:%M:%S} UTC)"
        if dry_run:
            self.stdout.write(f"Would delete {count} {noun} {when}; nothing deleted (--dry-run).")
        else:
            self.stdout.write(f"Deleted {count} {noun} {when}.")
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(
            f"{verb} {stats_count} visit/view statistics row{'' if stats_count == 1 else 's'} "
            f"before {first_day_kept:%Y-%m-%d} (STATS_RETENTION_DAYS {stats_days})."
        )
        self.stdout.write(
            f"{verb} {bot_count} bot detection{'' if bot_count == 1 else 's'} "
            f"before {bot_cutoff:%Y-%m-%d %H:%M:%S} UTC (BOT_DETECTION_RETENTION_DAYS {bot_days})."
        )
