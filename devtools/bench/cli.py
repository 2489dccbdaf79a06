"""What ``manage.py bench`` and ``manage.py soak`` share as commands: the options of the
run's environment (Redis, server environment, logs) and how a run is started, stopped
and its errors turned into CommandErrors.

Both start servers and clients that must be stopped, and Redis keys that must be
deleted, however the run ends: a SIGTERM (timeout(1), a CI runner) is taken as a Ctrl-C
so that the clean-up runs, and an interrupted run exits with the shell's code for it.
"""

import os
import signal

from django.core.management.base import CommandError

INTERRUPTED_EXIT_CODE = 130  # the shell's code for a Ctrl-C


def interrupt_on_sigterm(signum, frame):
    """SIGTERM would skip the clean-up; treat it like Ctrl-C."""
    raise KeyboardInterrupt


def env_assignment(text):
    key, separator, value = text.partition("=")
    if not separator or not key:
        raise ValueError(f"{text!r} is not KEY=VALUE")
    return key, value


def add_environment_arguments(parser, default_redis_db, server_env_help):
    parser.add_argument("--redis-url", default="", help="Redis to use (default: $REDIS_URL, else local or embedded).")
    parser.add_argument("--redis-db", type=int, default=default_redis_db, help="Redis DB index (default %(default)s).")
    parser.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE", help=server_env_help)


def add_keep_logs_argument(parser):
    parser.add_argument("--keep-logs", action="store_true", help="Keep the temp dir with the server logs.")


def environment_options(options):
    """The config fields the environment options set (ValueError on a bad --server-env)."""
    return {
        "redis_url": options["redis_url"] or os.environ.get("REDIS_URL", ""),
        "redis_db": options["redis_db"],
        "server_env": dict(env_assignment(item) for item in options["server_env"]),
        "keep_logs": options["keep_logs"],
    }


def config_or_command_error(config_from, options):
    try:
        return config_from(options)
    except ValueError as error:
        raise CommandError(str(error)) from None


def run_until_done(work, error_class, cleaned_up):
    """``work()``'s result; ``error_class`` and an interruption (Ctrl-C, SIGTERM) become
    CommandErrors, the latter saying what was ``cleaned_up``."""
    signal.signal(signal.SIGTERM, interrupt_on_sigterm)
    try:
        return work()
    except error_class as error:
        raise CommandError(str(error)) from None
    except KeyboardInterrupt:
        raise CommandError(f"Interrupted; {cleaned_up}.", returncode=INTERRUPTED_EXIT_CODE) from None
