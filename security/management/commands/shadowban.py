"""manage.py shadowban: hide a composite key's or a fingerprint's posts from everyone else."""

from django.core.management.base import BaseCommand, CommandError

from core.commands import dependency_errors, positive_number
from security import moderation
from security.models import Shadowban

DEFAULT_HOURS = 24


class Command(BaseCommand):
    help = (
        "Shadowban a composite key (default) or, with --fingerprint, a browser fingerprint, "
        f"on every instance: for {DEFAULT_HOURS} hours unless --hours or --permanent says otherwise."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "target", help="A composite key (64 hexadecimal characters), or a fingerprint with --fingerprint."
        )
        parser.add_argument("--fingerprint", action="store_true", help="TARGET is a browser fingerprint.")
        duration = parser.add_mutually_exclusive_group()
        duration.add_argument("--hours", type=positive_number, help=f"How long (default {DEFAULT_HOURS}).")
        duration.add_argument("--permanent", action="store_true", help="Until lifted (manage.py unban).")

    def handle(self, *args, target, fingerprint, hours=None, permanent=False, **options):
        if hours is not None and permanent:
            raise CommandError("Give either --hours or --permanent, not both.")
        target_type = Shadowban.Target.FINGERPRINT if fingerprint else Shadowban.Target.KEY
        try:
            target = moderation.clean_target(target_type, target)
        except ValueError as error:
            hint = "" if fingerprint else " To shadowban a browser fingerprint, add --fingerprint."
            raise CommandError(f"{error}{hint}") from None
        seconds = None if permanent else round((hours or DEFAULT_HOURS) * 3600)
        with dependency_errors(
            "the shadowban is recorded but not enforced yet; once Redis answers, run `manage.py sync_bans`."
        ):
            moderation.shadowban_by_moderator(target_type, target, seconds)
        duration = "permanently" if seconds is None else f"for {seconds / 3600:g} hours"
        label = Shadowban.Target(target_type).label.lower()
        self.stdout.write(f"Shadowbanned {label} {target} {duration}, on every instance.")
