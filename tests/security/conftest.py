import pytest

from tests.clients import Browser


@pytest.fixture
def phone_post(servers):
    """A fresh public message with a phone number, posted on instance A."""

    def make(text="Room with a number, call after 6pm", location="Pune"):
        return Browser(servers[0]).post_ok(text, phone="9876501234", location=location)

    return make
