"""manage.py sync_bans: rebuild the enforcement state in Redis from the database."""

from django.core.management.base import BaseCommand

from core.commands import dependency_errors
from security import moderation


class Command(BaseCommand):
    help = (
        "Rebuild the shadowbans and IP blocks Redis enforces from the database records "
        "(after Redis restarted without its data)."
    )

    def handle(self, *args, **options):
        with dependency_errors(
            "start it or fix REDIS_URL, then run this again."
        ):
            counts = moderation.sync_bans()
        shadowbans, blocks = counts["shadowbans"], counts["ip_blocks"]
        self.stdout.write(
            f"Enforcement state rebuilt from the database: {shadowbans} shadowbanned "
            f"target{'s' if shadowbans != 1 else ''}, {blocks} blocked IP{'s' if blocks != 1 else ''}."
        )
