"""Cross-instance broadcast: every socket on every instance gets each post exactly once.

"Did not receive" is proven with a sentinel post published after the one under test:
each process's hub receives events in publish order, so a socket that gets the
sentinel first never got the earlier post.
"""

import pytest

from tests.clients import MESSAGE_FIELDS, Browser, Socket

pytestmark = pytest.mark.django_db(transaction=True)


def test_post_reaches_sockets_on_both_instances_once_and_city_scoped(servers):
    a, b = servers
    sockets = {
        "a_all": Socket(a, "/ws"),
        "b_all": Socket(b, "/ws"),
        "a_pune": Socket(a, "/ws", location="Pune"),
        "b_pune": Socket(b, "/ws", location="pune"),  # city names are case-insensitive
        "a_events_pune": Socket(a, "/ws/events", location="Pune"),
        "b_mumbai": Socket(b, "/ws", location="Mumbai"),
        "b_events_mumbai": Socket(b, "/ws/events", location="Mumbai"),
    }
    posted = Browser(a).post_ok("1BHK in Kothrud, 18k", location="Pune")
    sentinel = Browser(b).post_ok("Flatmate wanted in Bandra", location="Mumbai", message_type="requested")

    def first_two(socket):
        return [socket.recv(), socket.recv()]

    for name in ("a_all", "b_all"):
        first, second = first_two(sockets[name])
        assert first == {key: posted[key] for key in first}, name
        assert "phone" not in first
        assert second["id"] == sentinel["id"], f"{name} got a duplicate instead of the next post"
    for name in ("a_pune", "b_pune"):
        frame = sockets[name].recv()
        assert frame["id"] == posted["id"]
        assert set(frame) == MESSAGE_FIELDS
    # The Pune sockets must not get the Mumbai sentinel; a later Pune post is their next frame.
    later = Browser(b).post_ok("PG for girls near FC Road", location="Pune")
    for name in ("a_pune", "b_pune"):
        assert sockets[name].recv()["id"] == later["id"], f"{name} got a post from another city or twice"

    envelope = sockets["a_events_pune"].recv()
    assert envelope == {
        "type": "message",
        "data": {key: posted[key] for key in envelope["data"]},
        "event_id": envelope["event_id"],  # chat.stream: increasing in commit order
    }
    assert sockets["a_events_pune"].recv()["data"]["id"] == later["id"]

    # The Mumbai sockets get the sentinel first: the Pune post never reached them.
    assert sockets["b_mumbai"].recv()["id"] == sentinel["id"]
    assert sockets["b_events_mumbai"].recv()["data"]["id"] == sentinel["id"]
    for socket in sockets.values():
        socket.close()


def test_message_without_city_reaches_only_all_city_sockets(servers):
    a, b = servers
    everywhere = Socket(b, "/ws")
    pune = Socket(b, "/ws", location="Pune")
    cityless = Browser(a).post_ok("Looking for a room anywhere in the city", location="", message_type="requested")
    sentinel = Browser(a).post_ok("Room in Aundh", location="Pune")
    assert [everywhere.recv()["id"], everywhere.recv()["id"]] == [cityless["id"], sentinel["id"]]
    assert pune.recv()["id"] == sentinel["id"]
    everywhere.close()
    pune.close()


def test_each_process_is_one_member_of_the_all_cities_group_whatever_its_sockets(servers, redis_client, settings):
    """The hub, not each socket, is the channel-layer member: one per process, of the
    all-cities group only (it sequences every event, docs/STREAM.md); no per-city
    membership appears or lingers as sockets come and go."""
    from chat.events import ALL_CITIES_GROUP, city_group

    a, b = servers
    all_key = f"{settings.REDIS_PREFIX}:layer:group:{ALL_CITIES_GROUP}"
    city_key = f"{settings.REDIS_PREFIX}:layer:group:{city_group('nagpur')}"
    hubs = redis_client.zcard(all_key)  # A, B, and any test instance still within group expiry
    assert hubs >= 2
    sockets = [Socket(a, "/ws", location="Nagpur"), Socket(a, "/ws/events", location="Nagpur"), Socket(b, "/ws")]
    assert redis_client.zcard(all_key) == hubs
    assert redis_client.zcard(city_key) == 0
    for socket in sockets:
        socket.close()
    sentinel = Socket(a, "/ws/events")
    sentinel.send('{"type": "ping"}')
    assert sentinel.recv()["data"]["code"] == "pong"
    assert redis_client.zcard(all_key) == hubs
    sentinel.close()


