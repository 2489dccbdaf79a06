"""manage.py block_ip: refuse every request and WebSocket handshake from an IP address."""

from django.core.management.base import BaseCommand, CommandError

from core.commands import dependency_errors, positive_number
from core.conf import kirb_setting
from security import moderation


class Command(BaseCommand):
    help = (
        "Block an IP address on every instance (HTTP 429, WebSocket close 4429): for "
        "KIRB_BURST_BLOCK_SECONDS (30 minutes) unless --minutes or --permanent says otherwise."
    )

    def add_arguments(self, parser):
        parser.add_argument("ip", help="An IPv4 or IPv6 address.")
        duration = parser.add_mutually_exclusive_group()
        duration.add_argument("--minutes", type=positive_number, help="How long (default: the burst block, 30).")
        duration.add_argument("--permanent", action="store_true", help="Until lifted (manage.py unblock_ip).")

    def handle(self, *args, ip, minutes=None, permanent=False, **options):
        if minutes is not None and permanent:
            raise CommandError("Give either --minutes or --permanent, not both.")
        try:
            ip = moderation.clean_ip_to_block(ip)
        except ValueError as error:
            raise CommandError(str(error)) from None
        if permanent:
            seconds = None
        elif minutes is not None:
            seconds = round(minutes * 60)
        else:
            seconds = kirb_setting("BURST_BLOCK_SECONDS")
        with dependency_errors(
            "the block is recorded but not enforced yet; once Redis answers, run `manage.py sync_bans`."
        ):
            moderation.block_by_moderator(ip, seconds)
        duration = "permanently" if seconds is None else f"for {seconds / 60:g} minutes"
        self.stdout.write(f"Blocked {ip} {duration}, on every instance.")
