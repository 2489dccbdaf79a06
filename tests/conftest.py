"""Shared fixtures: a Redis namespace of our own, and real Kirb server processes.

Server processes run ``manage.py serve`` on free loopback ports with the test run's
environment (tests/settings.py), sharing its Redis namespace and test database.
"""

import uuid
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from devtools.instances import ServerProcess
from security import store
from tests.settings import TEST_ENV


def delete_keys(client, pattern, keep_prefix=None):
    for key in client.scan_iter(match=pattern, count=1000):
        if keep_prefix is None or not key.startswith(keep_prefix):
            client.delete(key)


@pytest.fixture(scope="session", autouse=True)
def redis_client():
    """A client on the test Redis DB; everything under this run's prefix is removed at the end."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    yield client
    delete_keys(client, f"{settings.REDIS_PREFIX}*")
    client.close()


@pytest.fixture(autouse=True)
def clean_security_state(redis_client):
    """Security state starts empty in every test; the running servers' channel-layer keys
    stay, and so does the enforcement sync marker (the database's bans are emptied too,
    so Redis is in sync; without it every hub would see a Redis that lost its state)."""
    from security.moderation import SYNC_MARKER

    marker = store.key(*SYNC_MARKER)
    synced = redis_client.get(marker)
    delete_keys(redis_client, f"{settings.REDIS_PREFIX}:*", keep_prefix=f"{settings.REDIS_PREFIX}:layer".encode())
    if synced is not None:
        redis_client.set(marker, synced)
    yield


@pytest.fixture
def redis_state(redis_client):
    """Read enforcement keys as the servers wrote them: ``redis_state.ttl("cooldown", key)``."""

    class State:
        def exists(self, *parts):
            return bool(redis_client.exists(store.key(*parts)))

        def ttl(self, *parts):
            """Seconds left; -1 for no expiry, -2 for no key."""
            return redis_client.ttl(store.key(*parts))

        def get(self, *parts):
            return redis_client.get(store.key(*parts))

        def zcard(self, *parts):
            return redis_client.zcard(store.key(*parts))

    return State()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database, dropped at the end without waiting on connections
    this process's thread pools still hold (chat.dbpool and the HTTP bridge keep one per
    thread, as a server does): on PostgreSQL, DROP DATABASE waited for them until the
    statement timeout cancelled it, and the test database was left behind."""
    yield
    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )


def _database_url():
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    host = db["HOST"] or "localhost"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}@{host}{port}/{db['NAME']}"


@pytest.fixture(scope="session")
def server_env(django_db_setup, django_db_blocker):
    """The environment of server processes; static files collected for them once."""
    call_command("collectstatic", interactive=False, verbosity=0)
    with django_db_blocker.unblock():
        return {**TEST_ENV, "DATABASE_URL": _database_url()}


class ServerPool:
    def __init__(self, env, log_dir):
        self.env = env
        self.log_dir = log_dir
        self.started = []

    def start(self, require_healthy=True, **extra_env):
        log_path = self.log_dir / f"server-{len(self.started)}-{uuid.uuid4().hex[:6]}.log"
        server = ServerProcess({**self.env, **extra_env}, log_path=log_path, require_healthy=require_healthy).start()
        self.started.append(server)
        return server

    def stop_all(self):
        for server in self.started:
            server.stop()


@pytest.fixture(scope="session")
def servers(server_env, tmp_path_factory):
    """Two long-lived instances, A and B, shared by the tests that only need them serving."""
    pool = ServerPool(server_env, tmp_path_factory.mktemp("shared-servers"))
    yield [pool.start(), pool.start()]
    pool.stop_all()


@pytest.fixture
def start_server(server_env, tmp_path):
    """Start instances of one's own (to kill, restart or configure); stopped after the test."""
    pool = ServerPool(server_env, tmp_path)
    yield pool.start
    pool.stop_all()


@pytest.fixture
def moderator(django_user_model, server_env):
    """A logged-in superuser's test client. (Admin pages link static files, which need
    the manifest ``server_env`` collects once per run, since DEBUG is off.)"""
    from django.test import Client

    user = django_user_model.objects.create_superuser("moderator", "moderator@example.com", "not-used-here-1")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture(scope="session")
def content_filter():
    from core.conf import kirb_setting
    from security.content_filter import ContentFilter, FilterConfig

    return ContentFilter(FilterConfig.from_settings(kirb_setting))


@pytest.fixture(scope="session")
def held_text(content_filter):
    """The shortest tuning-corpus spam post the filter passes but holds for review: found,
    not written here, so that tests follow the review tier as its signals change."""
    from security.content_filter import read_corpus
    from security.management.commands.filter_report import corpus_files
    from security.management.commands.filter_train import TUNING_CORPORA

    held = [
        post
        for corpus in TUNING_CORPORA
        for post in read_corpus(corpus_files(Path(settings.BASE_DIR) / corpus)[1])
        if content_filter.check(post) is None and content_filter.review(post)
    ]
    assert held, "the review tier holds no post of the tuning corpora"
    return min(held, key=len)
