"""The production entry point: daphne, with Kirb's limits and graceful drain."""

import os

from django.conf import settings
from django.core.management.base import BaseCommand
from redis.exceptions import RedisError

from chat import cities
from kirb_project import server
from security import moderation, policy


class Command(BaseCommand):
    help = (
        "Serve Kirb (HTTP and WebSockets) on HOST:PORT. SIGTERM or SIGINT drains: "
        "/health turns 503, sockets get close code 1012, and the process exits 0 "
        "within KIRB_DRAIN_DEADLINE_SECONDS."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default=None, help="Interface to bind (default: $HOST, 127.0.0.1).")
        parser.add_argument("--port", type=int, default=None, help="Port (default: $PORT, 8000).")

    def handle(self, *args, host, port, **options):
        host = host or settings.HOST
        port = port or settings.PORT
        self._restore_enforcement_state()
        self._load_what_requests_need()
        self.stdout.write(f"Kirb serving on http://{host}:{port} (instance {settings.INSTANCE_ID})")
        self.stdout.flush()
        served = server.serve(host, port)
        # The drain closed every socket and let every request finish. A worker thread
        # still blocked in a sync-to-async call would keep the interpreter from exiting
        # (it waits on an event loop that is gone); exit now, within the deadline.
        if not served:
            self.stderr.write(f"Could not listen on {host}:{port} (in use, or not an address of this host).")
        self.stdout.flush()
        self.stderr.flush()
        os._exit(0 if served else 1)

    def _load_what_requests_need(self):
        """The city list and the content filter, built now: built by the first post
        instead, they held it (and the requests queued behind it) for about a second on
        a fast machine and several on a slow one."""
        cities.load()
        policy.load_content_filter()

    def _restore_enforcement_state(self):
        """Redis may have lost everything (no persistence): rebuild bans from the database."""
        try:
            restored = moderation.sync_bans_if_redis_lost()
        except RedisError as error:
            # Serve anyway: /health says Redis is down, actions answer 503, and the hub
            # restores the state when Redis comes back.
            self.stderr.write(f"Redis at {settings.REDIS_URL} does not answer ({error}); serving unhealthy.")
            return
        if restored is not None:
            self.stdout.write(
                f"Redis held no Kirb state: restored {restored['shadowbans']} shadowbans and "
                f"{restored['ip_blocks']} IP blocks from the database."
            )
