"""`manage.py bench`: Kirb against the Channels tutorial's design and a bare websockets
server, on real servers; and the idle-socket, slow-reader and POST-throughput scenarios.

What is run is in devtools.bench.config, the work in devtools.bench.runner and
devtools.bench.scenarios, the output in devtools.bench.report; this command only parses
the options (with devtools.bench.cli, shared with `manage.py soak`) and prints the report.
See docs/BENCHMARKS.md.
"""

from pathlib import Path

from django.core.management.base import BaseCommand

from devtools.bench import cli, config, report, runner

ALL = "all"
BOTH = "both"  # issue 2's name for kirb + baseline, still accepted


class Command(BaseCommand):
    help = (
        "Start --server-count instances per design (kirb, tutorial, bare), connect --clients sockets "
        "spread over them, post --rate messages/s for --duration s, and print delivery, latency, CPU "
        "and memory per design with Kirb's ratios; or --sockets-only, --slow-readers N, --posts-only."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        defaults = config.BenchConfig()
        parser.add_argument("--clients", type=int, default=None,
                            help="WebSocket clients (default: 1,000; 10,000 with --sockets-only; 20 readers with --slow-readers).")
        parser.add_argument("--rate", type=float, default=None, help="Posts per second (default 5; 50 with --slow-readers).")
        parser.add_argument("--duration", type=float, default=None, help="Seconds of posting (default 20; 30 with --slow-readers).")
        parser.add_argument(
            "--design", choices=[*config.DESIGNS, *config.EXTRA_DESIGNS, ALL, BOTH], default=None,
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
        parser.add_argument("--path", choices=config.KIRB_PATHS, default=defaults.path, help="Kirb's socket path (default %(default)s).")
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
        cli.add_environment_arguments(
            parser, defaults.redis_db, "Extra environment for the servers, e.g. a limit to raise for the bench (repeatable)."
        )
        parser.add_argument("--json", dest="json_path", default=None, help="Also write the results as JSON to this file.")
        cli.add_keep_logs_argument(parser)

    def handle(self, *args, **options):
        bench_config = cli.config_or_command_error(self.config_from, options)
        results = cli.run_until_done(
            lambda: runner.run(bench_config, echo=self.stdout.write), config.BenchError,
            "the servers and clients were stopped and the Redis keys deleted",
        )
        self.stdout.write("")
        self.stdout.write(report.format_report(bench_config, results))
        if options["json_path"]:
            Path(options["json_path"]).write_text(report.results_as_json(bench_config, results))

    @staticmethod
    def config_from(options):
        if options["sockets_only"]:
            mode = config.SOCKETS_ONLY
        elif options["slow_readers"]:
            mode = config.SLOW_READERS
        elif options["posts_only"]:
            mode = config.POSTS_ONLY
        else:
            mode = config.FANOUT
        defaults = config.MODE_DEFAULTS[mode]

        def chosen(name):
            return defaults[name] if options[name] is None else options[name]

        design = options["design"]
        designs = {None: defaults["designs"], ALL: config.DESIGNS, BOTH: ("kirb", "baseline")}.get(design, (design,))
        cities = tuple(city.strip() for city in options["cities"].split(",") if city.strip())
        clients, server_count = chosen("clients"), chosen("server_count")
        rate, duration = chosen("rate"), chosen("duration")
        if mode == config.POSTS_ONLY:
            if duration <= 0 or options["concurrency"] < 1:
                raise ValueError("--duration and --concurrency must be positive.")
        elif clients < 1 or (mode != config.SOCKETS_ONLY and (rate <= 0 or duration <= 0)):
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
        return config.BenchConfig(
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
            **cli.environment_options(options),
        )
