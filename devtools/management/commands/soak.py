"""`manage.py soak`: two fresh servers under socket churn for minutes; is anything growing?

The work is in devtools.bench.soak; this command only parses the options (with
devtools.bench.cli, shared with `manage.py bench`), prints the report and exits with its
code (0 flat, 3 growing, 4 lost frames or failed requests). See docs/OPERATIONS.md, "Soak".
"""

from django.core.management.base import BaseCommand, CommandError

from devtools.bench import cli, soak


class Command(BaseCommand):
    help = (
        "Start two server instances, churn ~--sockets WebSockets over 50 cities for --minutes while "
        "posting and loading the page, sample RSS, sockets and Redis keys, and judge whether they stay flat."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        defaults = soak.SoakConfig()
        parser.add_argument("--minutes", type=float, default=defaults.minutes, help="Churn duration (default %(default)s).")
        parser.add_argument("--sockets", type=int, default=defaults.sockets, help="Sockets open at any time (default %(default)s).")
        parser.add_argument("--post-rate", type=float, default=defaults.post_rate, help="Posts per second (default %(default)s).")
        parser.add_argument(
            "--page-view-rate", type=float, default=defaults.page_view_rate,
            help="Page loads per second: track-visitor, stats and history calls (default %(default)s).",
        )
        parser.add_argument(
            "--sample-seconds", type=float, default=defaults.sample_seconds, help="Between samples (default %(default)s)."
        )
        parser.add_argument(
            "--warmup-seconds", type=float, default=defaults.warmup_seconds,
            help="Samples before this are shown but not judged (default %(default)s).",
        )
        parser.add_argument(
            "--identities", type=int, default=defaults.identities,
            help="Fingerprints posts and page loads take turns with; at least post-rate x the post cooldown "
                 "(default %(default)s).",
        )
        cli.add_environment_arguments(parser, defaults.redis_db, "Extra server environment.")
        parser.add_argument("--seed", type=int, default=None, help="Random seed for the churn (cities, lifetimes).")
        cli.add_keep_logs_argument(parser)

    def handle(self, *args, **options):
        config = cli.config_or_command_error(self.config_from, options)
        report = cli.run_until_done(
            soak.Soak(config, echo=self.stdout.write).run, soak.SoakError,
            "the servers were stopped and the Redis keys deleted",
        )
        self.stdout.write(report.format())
        if report.exit_code == soak.EXIT_LOSSES:
            raise CommandError("Frames were lost or requests failed (see above).", returncode=report.exit_code)
        if report.exit_code == soak.EXIT_GROWTH:
            raise CommandError("Memory or Redis keys were not flat (see above).", returncode=report.exit_code)

    @staticmethod
    def config_from(options):
        positive = ("minutes", "sockets", "post_rate", "page_view_rate", "sample_seconds", "identities")
        if any(options[name] <= 0 for name in positive):
            raise ValueError("--minutes, --sockets, --post-rate, --page-view-rate, --sample-seconds and --identities must be positive.")
        if options["warmup_seconds"] < 0:
            raise ValueError("--warmup-seconds cannot be negative.")
        return soak.SoakConfig(
            minutes=options["minutes"],
            sockets=options["sockets"],
            post_rate=options["post_rate"],
            page_view_rate=options["page_view_rate"],
            sample_seconds=options["sample_seconds"],
            warmup_seconds=options["warmup_seconds"],
            identities=options["identities"],
            seed=options["seed"],
            **cli.environment_options(options),
        )
