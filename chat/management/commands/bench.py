"""`manage.py bench`: Kirb's hub against a per-socket baseline, on two real servers.

The work is in bench.runner; this command only parses the options and prints the
report. See docs/BENCHMARKS.md for how to read it.
"""

import logging
import os
import signal
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from bench import runner

logger = logging.getLogger(__name__)

BOTH = "both"
INTERRUPTED_EXIT_CODE = 130  # the shell's code for a Ctrl-C


def interrupt_on_sigterm(signum, frame):
    """SIGTERM (timeout(1), a CI runner) would skip the clean-up; treat it like Ctrl-C."""
    raise KeyboardInterrupt


def env_assignment(text):
    key, separator, value = text.partition("=")
    if not separator or not key:
        raise ValueError(f"{text!r} is not KEY=VALUE")
    return key, value


class Command(BaseCommand):
    help = (
        "Start two server instances, connect --clients sockets spread over them, post --rate "
        "messages/s for --duration s, and print delivery, latency, CPU and memory per design."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        defaults = runner.BenchConfig()
        parser.add_argument("--clients", type=int, default=defaults.clients, help="WebSocket clients (default %(default)s).")
        parser.add_argument("--rate", type=float, default=defaults.rate, help="Posts per second (default %(default)s).")
        parser.add_argument("--duration", type=float, default=defaults.duration, help="Seconds of posting (default %(default)s).")
        parser.add_argument(
            "--design", choices=[*runner.DESIGNS, BOTH], default=BOTH,
            help="kirb (one layer member per process), baseline (one per socket) or both, one after the other.",
        )
        parser.add_argument("--path", choices=runner.KIRB_PATHS, default=defaults.path, help="Kirb's socket path (default %(default)s).")
        parser.add_argument(
            "--cities", default=",".join(defaults.cities),
            help="Comma-separated cities the sockets are scoped to and posts go to, in turn (default %(default)s).",
        )
        parser.add_argument(
            "--all-cities-share", type=float, default=defaults.all_cities_share,
            help="Fraction of sockets without ?location= (they get every post; default %(default)s).",
        )
        parser.add_argument(
            "--client-processes", type=int, default=defaults.client_processes,
            help="Client processes, each one asyncio loop (default %(default)s: one per server).",
        )
        parser.add_argument("--redis-url", default="", help="Redis to use (default: $REDIS_URL, else local or embedded).")
        parser.add_argument("--redis-db", type=int, default=defaults.redis_db, help="Redis DB index (default %(default)s).")
        parser.add_argument(
            "--server-env", action="append", default=[], metavar="KEY=VALUE",
            help="Extra environment for the servers, e.g. a limit to raise for the bench (repeatable).",
        )
        parser.add_argument("--json", dest="json_path", default=None, help="Also write the results as JSON to this file.")
        parser.add_argument("--keep-logs", action="store_true", help="Keep the temp dir with the server logs.")

    def handle(self, *args, **options):
        try:
            config = self.config_from(options)
        except ValueError as error:
            raise CommandError(str(error)) from None
        signal.signal(signal.SIGTERM, interrupt_on_sigterm)
        try:
            results = runner.run(config, echo=self.stdout.write)
        except runner.BenchError as error:
            raise CommandError(str(error)) from None
        except KeyboardInterrupt:
            raise CommandError(
                "Interrupted; the servers and clients were stopped and the Redis keys deleted.",
                returncode=INTERRUPTED_EXIT_CODE,
            ) from None
        self.stdout.write("")
        self.stdout.write(runner.format_report(config, results))
        if options["json_path"]:
            Path(options["json_path"]).write_text(runner.results_as_json(config, results))

    @staticmethod
    def config_from(options):
        cities = tuple(city.strip() for city in options["cities"].split(",") if city.strip())
        if options["clients"] < 1 or options["rate"] <= 0 or options["duration"] <= 0:
            raise ValueError("--clients, --rate and --duration must be positive.")
        if not cities:
            raise ValueError("--cities needs at least one city.")
        if not 0 <= options["all_cities_share"] <= 1:
            raise ValueError("--all-cities-share must be between 0 and 1.")
        if options["client_processes"] < 1:
            raise ValueError("--client-processes must be at least 1.")
        return runner.BenchConfig(
            clients=options["clients"],
            rate=options["rate"],
            duration=options["duration"],
            designs=runner.DESIGNS if options["design"] == BOTH else (options["design"],),
            path=options["path"],
            cities=cities,
            all_cities_share=options["all_cities_share"],
            client_processes=options["client_processes"],
            redis_url=options["redis_url"] or os.environ.get("REDIS_URL", ""),
            redis_db=options["redis_db"],
            server_env=dict(env_assignment(item) for item in options["server_env"]),
            keep_logs=options["keep_logs"],
        )
