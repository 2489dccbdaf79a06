"""manage.py unban: lift every active shadowban of a composite key or fingerprint."""

from django.core.management.base import BaseCommand, CommandError

from core.commands import dependency_errors
from security import enforcement, moderation
from security.models import Shadowban


class Command(BaseCommand):
    help = "Lift every active shadowban of a composite key or a browser fingerprint, on every instance."

    def add_arguments(self, parser):
        parser.add_argument("target", help="A composite key (64 hexadecimal characters) or a browser fingerprint.")

    def handle(self, *args, target, **options):
        try:
            target = moderation.clean_fingerprint(target, to_lift=True)  # a composite key is a valid fingerprint too
        except ValueError as error:
            raise CommandError(f"{error} Give the composite key or fingerprint the ban lists.") from None
        with dependency_errors(
            "the ban is lifted in the database but still enforced; once Redis answers, run this again."
        ):
            lifted = moderation.unban(target)
            for target_type in Shadowban.Target:  # and drop any Redis key no record backs
                enforcement.sync_target(Shadowban(target_type=target_type, target=target))
        if lifted:
            self.stdout.write(f"Lifted {lifted} shadowban{'s' if lifted != 1 else ''} of {target}, on every instance.")
        else:
            self.stdout.write(f"{target} has no active shadowban; nothing to lift.")
