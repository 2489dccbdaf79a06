"""manage.py unblock_ip: lift every active block of an IP address."""

from django.core.management.base import BaseCommand, CommandError

from core.commands import dependency_errors
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
        with dependency_errors(
            "the block is lifted in the database but still enforced; once Redis answers, run this again."
        ):
            lifted = moderation.unblock_ip(ip)
            enforcement.sync_target(IPBlock(ip=ip))  # and drop a Redis key no record backs
        if lifted:
            self.stdout.write(f"Lifted {lifted} block{'s' if lifted != 1 else ''} of {ip}, on every instance.")
        else:
            self.stdout.write(f"{ip} has no active block; nothing to lift.")
