"""`manage.py bench`: Kirb against the Channels tutorial's design and a bare websockets
server, on real servers; and the idle-socket, slow-reader and POST-throughput scenarios.

The work is in devtools.bench.runner and devtools.bench.scenarios, the output in devtools.bench.report; this
command only parses the options and prints the report. See docs/BENCHMARKS.md.
"""

import logging
import os
import signal
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from devtools.bench import report, runner, scenarios

logger = logging.getLogger(__name__)

ALL = "all"
BOTH = "both"  # issue 2's name for kirb + baseline, still accepted
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
        "Start --server-count instances per design (kirb, tutorial, bare), connect --clients sockets "
        "spread over them, post --rate messages/s for --duration s, and print delivery, latency, CPU "
        "and memory per design with Kirb's ratios; or --sockets-only, --slow-readers N, --posts-only."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        defaults = runner.BenchConfig()
        parser.add_argument("--clients", type=int, default=None,
                            help="WebSocket clients (default: 1,000; 10,000 with --sockets-only; 20 readers with --slow-readers).")
        parser.add_argument("--rate", type=float, default=None, help="Posts per second (default 5; 50 with --slow-readers).")
        parser.add_argument("--duration", type=float, default=None, help="Seconds of posting (default 20; 30 with --slow-readers).")
        parser.add_argument(
            "--design", choices=[*runner.DESIGNS, *runner.EXTRA_DESIGNS, ALL, BOTH], default=None,
            help="kirb (hub), tutorial (one pub/sub layer member per socket), bare (websockets + Redis "
                 "pub/sub, the ceiling), baseline (per socket, core layer), all (kirb, tutorial, bare: the "
                 "default; kirb only for --slow-readers and --posts-only) or both (kirb, baseline).",
        )
        parser.add_argument("--server-count", type=int, default=None,
                            help="Instances per design (default 2; 1 for the scenarios below).")
        scenario = parser.add_mutually_exclusive_group()
        scenario.add_argument("--sockets-only", action="store_true",
                              help="Idle sockets only: RSS per socket and /health latency while they are open.")
        scenario.add_argument("--slow-readers", type=int, default=0, metavar="N",
                              help="N sockets that stop reading while posts flow: server RSS over time, how they were closed.")
        scenario.add_argument("--posts-only", action="store_true",
                              help="POST /messages throughput, every security check on, distinct addresses and fingerprints.")
        parser.add_argument("--health-requests", type=int, default=defaults.health_requests,
                            help="--sockets-only: sequential GET /health (default %(default)s).")
        parser.add_argument("--concurrency", type=int, default=defaults.concurrency,
                            help="--posts-only: posts in flight (default %(default)s).")
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
            help="Client processes, each one asyncio loop (default %(default)s).",
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
        self.stdout.write(report.format_report(config, results))
        if options["json_path"]:
            Path(options["json_path"]).write_text(report.results_as_json(config, results))

    @staticmethod
    def config_from(options):
        if options["sockets_only"]:
            mode = runner.SOCKETS_ONLY
        elif options["slow_readers"]:
            mode = runner.SLOW_READERS
        elif options["posts_only"]:
            mode = runner.POSTS_ONLY
        else:
            mode = runner.FANOUT
        defaults = scenarios.MODE_DEFAULTS[mode]

        def chosen(name):
            return defaults[name] if options[name] is None else options[name]

        design = options["design"]
        designs = {None: defaults["designs"], ALL: runner.DESIGNS, BOTH: ("kirb", "baseline")}.get(design, (design,))
        cities = tuple(city.strip() for city in options["cities"].split(",") if city.strip())
        clients, server_count = chosen("clients"), chosen("server_count")
        rate, duration = chosen("rate"), chosen("duration")
        if mode == runner.POSTS_ONLY:
            if duration <= 0 or options["concurrency"] < 1:
                raise ValueError("--duration and --concurrency must be positive.")
        elif clients < 1 or (mode != runner.SOCKETS_ONLY and (rate <= 0 or duration <= 0)):
            raise ValueError("--clients, --rate and --duration must be positive.")
        if options["slow_readers"] < 0 or options["health_requests"] < 1:
            raise ValueError("--slow-readers cannot be negative and --health-requests must be positive.")
        if server_count < 1:
            raise ValueError("--server-count must be at least 1.")
        if not cities:
            raise ValueError("--cities needs at least one city.")
        if not 0 <= options["all_cities_share"] <= 1:
            raise ValueError("--all-cities-share must be between 0 and 1.")
        if options["client_processes"] < 1:
            raise ValueError("--client-processes must be at least 1.")
        return runner.BenchConfig(
            clients=clients,
            rate=rate,
            duration=duration,
            designs=designs,
            mode=mode,
            server_count=server_count,
            health_requests=options["health_requests"],
            slow_readers=options["slow_readers"],
            concurrency=options["concurrency"],
            path=options["path"],
            cities=cities,
            all_cities_share=options["all_cities_share"],
            client_processes=options["client_processes"],
            redis_url=options["redis_url"] or os.environ.get("REDIS_URL", ""),
            redis_db=options["redis_db"],
            server_env=dict(env_assignment(item) for item in options["server_env"]),
            keep_logs=options["keep_logs"],
        )
