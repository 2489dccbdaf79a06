"""The production entry point: daphne serving Kirb's ASGI application."""

from daphne.cli import CommandLineInterface
from django.conf import settings
from django.core.management.base import BaseCommand

from kirb_project import server


class Command(BaseCommand):
    help = "Serve Kirb (HTTP and WebSockets) with daphne on HOST:PORT."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=None, help="Interface to bind (default: $HOST, 127.0.0.1).")
        parser.add_argument("--port", type=int, default=None, help="Port (default: $PORT, 8000).")
        parser.add_argument(
            "daphne_args", nargs="*", metavar="DAPHNE_ARG", help="Further daphne options, after --."
        )

    def handle(self, *args, host, port, daphne_args, **options):
        host = host or settings.HOST
        port = port or settings.PORT
        self.stdout.write(f"Kirb serving on http://{host}:{port} (instance {settings.INSTANCE_ID})")
        self.stdout.flush()
        server.install()
        application = settings.ASGI_APPLICATION.rsplit(".", 1)
        CommandLineInterface().run(["-b", host, "-p", str(port), *daphne_args, ":".join(application)])
