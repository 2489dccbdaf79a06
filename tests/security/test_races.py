"""Many instances racing on one identity cannot exceed a limit (atomic Redis operations)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from chat.models import Message
from tests.clients import Browser

pytestmark = pytest.mark.django_db(transaction=True)

CONCURRENT_REQUESTS = 30


def all_at_once(servers, person, request):
    """Fire CONCURRENT_REQUESTS calls of ``request(browser)`` from one identity, alternating instances."""
    browsers = [person.on(servers[i % 2]) for i in range(CONCURRENT_REQUESTS)]
    start = threading.Barrier(CONCURRENT_REQUESTS)

    def fire(browser):
        start.wait()
        return request(browser)

    with ThreadPoolExecutor(CONCURRENT_REQUESTS) as pool:
        return list(pool.map(fire, browsers))


def test_thirty_concurrent_posts_from_one_identity_accept_exactly_one(servers):
    person = Browser(servers[0])
    responses = all_at_once(servers, person, lambda b: b.post("Racing for the one post slot"))
    statuses = [response.status_code for response in responses]
    assert statuses.count(200) == 1, statuses
    assert set(statuses) == {200, 429}
    assert Message.objects.filter(poster_fingerprint=person.fingerprint).count() == 1


def test_thirty_concurrent_reveals_from_one_identity_give_exactly_five_phones(servers):
    message = Browser(servers[0]).post_ok("Room with a phone", phone="9876512345")
    person = Browser(servers[1])
    responses = all_at_once(servers, person, lambda b: b.get(f"/api/contact/{message['id']}"))
    phones = [r.json()["phone"] for r in responses if r.status_code == 200]
    assert phones == ["9876512345"] * 5
    assert {r.status_code for r in responses} == {200, 429}
