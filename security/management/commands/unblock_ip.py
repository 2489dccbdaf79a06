"""manage.py unblock_ip: lift every active block of an IP address."""

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from redis.exceptions import RedisError

from security import enforcement, moderation
from security.models import IPBlock


class Command(BaseCommand):
    help = "Lift every active block of an IP address, on every instance."

    def add_arguments(self, parser):
        parser.add_argument("ip", help="An IPv4 or IPv6 address.")

    def handle(self, *args, ip, **options):
        try:
            ip = moderation.clean_ip(ip)
        except ValueError as error:
            raise CommandError(str(error)) from None
        try:
            lifted = moderation.unblock_ip(ip)
            enforcement.sync_target(IPBlock(ip=ip))  # and drop a Redis key no record backs
        except DatabaseError as error:
            raise CommandError(
                f"The database is unavailable ({error}): check DATABASE_URL, then run this again."
            ) from None
        except RedisError as error:
            raise CommandError(
                f"Redis is unavailable ({error}): the block is lifted in the database but still enforced; "
                "once Redis answers, run this again."
            ) from None
        if lifted:
            self.stdout.write(f"Lifted {lifted} block{'s' if lifted != 1 else ''} of {ip}, on every instance.")
        else:
            self.stdout.write(f"{ip} has no active block; nothing to lift.")
