"""manage.py sync_bans: rebuild the enforcement state in Redis from the database."""

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from redis.exceptions import RedisError

from security import moderation


class Command(BaseCommand):
    help = (
        "Rebuild the shadowbans and IP blocks Redis enforces from the database records "
        "(after Redis restarted without its data)."
    )

    def handle(self, *args, **options):
        try:
            counts = moderation.sync_bans()
        except DatabaseError as error:
            raise CommandError(
                f"The database is unavailable ({error}): check DATABASE_URL, then run this again."
            ) from None
        except RedisError as error:
            raise CommandError(
                f"Redis is unavailable ({error}): start it or fix REDIS_URL, then run this again."
            ) from None
        shadowbans, blocks = counts["shadowbans"], counts["ip_blocks"]
        self.stdout.write(
            f"Enforcement state rebuilt from the database: {shadowbans} shadowbanned "
            f"target{'s' if shadowbans != 1 else ''}, {blocks} blocked IP{'s' if blocks != 1 else ''}."
        )
