import pytest

from security import store
from tests.clients import Browser


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


@pytest.fixture
def phone_post(servers):
    """A fresh public message with a phone number, posted on instance A."""

    def make(text="Room with a number, call after 6pm", location="Pune"):
        return Browser(servers[0]).post_ok(text, phone="9876501234", location=location)

    return make
