"""manage.py purge_messages: the retention policy (run it from cron, e.g. hourly)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from kirb_project.commands import positive_number
from chat import services
from kirb_project.conf import kirb_setting


class Command(BaseCommand):
    help = (
        "Delete the messages older than --hours (default MESSAGE_RETENTION_HOURS, 48). "
        "Reports, shadowbans, IP blocks and bot detections are kept."
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
