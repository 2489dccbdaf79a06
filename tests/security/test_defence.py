"""One test per row of the defence table (README, "Abuse defence"), against real servers and Redis:
the response, the Redis state with its TTL, and what other people see."""

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from django.conf import settings

from chat.models import Message
from security.models import BotDetection, IPBlock, ModerationCase, Shadowban
from tests.clients import Browser, Socket, key_of, new_ip, visible_ids, wait_for

pytestmark = pytest.mark.django_db(transaction=True)




def assert_rate_limited(response, code):
    assert response.status_code == 429, response.text
    body = response.json()
    assert body["error"] == code and body["retry_after_seconds"] >= 1
    assert response.headers["Retry-After"] == str(body["retry_after_seconds"])
    return body


# --- post limit ------------------------------------------------------------------------


def test_post_limit_one_per_cooldown_and_cooldown_reads_without_consuming(servers, redis_state):
    a, b = servers
    poster = Browser(a)
    assert poster.get("/api/cooldown").json() == {"can_post": True, "remaining_seconds": 0}
    poster.post_ok("1BHK in Wakad, 15k")

    again = poster.on(b).post("Second post too soon")  # the limit holds across instances
    body = assert_rate_limited(again, "post_cooldown")
    assert 55 <= body["retry_after_seconds"] <= 60
    assert 55 <= redis_state.ttl("cooldown", key_of(poster)) <= 60

    first = poster.get("/api/cooldown").json()
    second = poster.on(b).get("/api/cooldown").json()
    assert first["can_post"] is False and 55 <= first["remaining_seconds"] <= 60
    assert second["remaining_seconds"] <= first["remaining_seconds"]  # reading consumed nothing
    assert Browser(a).post("Someone else posts freely").status_code == 200




# --- reveal limit ----------------------------------------------------------------------


def test_reveal_limit_five_per_hour(servers, redis_state, phone_post):
    a, b = servers
    message = phone_post()
    reader = Browser(a)
    remaining = []
    for i in range(5):
        response = (reader if i % 2 else reader.on(b)).get(f"/api/contact/{message['id']}")
        assert response.status_code == 200
        remaining.append(response.json()["reveals_remaining"])
    assert remaining == [4, 3, 2, 1, 0]
    sixth = reader.get(f"/api/contact/{message['id']}")
    body = assert_rate_limited(sixth, "reveal_limit")
    assert "phone" not in body and "9876501234" not in sixth.text
    assert redis_state.zcard("rate_limit", key_of(reader), "reveal") == 5
    assert 3590 <= redis_state.ttl("rate_limit", key_of(reader), "reveal") <= 3600
    assert Browser(b).get(f"/api/contact/{message['id']}").status_code == 200  # others unaffected


# --- burst limit -----------------------------------------------------------------------


def test_burst_of_writes_is_refused_and_cools_down_the_key_everywhere(servers, redis_state):
    a, b = servers
    bot = Browser(a)
    statuses = [bot.http.post("/api/track-visitor", json={}).status_code for _ in range(21)]
    assert statuses[:20] == [200] * 20
    assert_rate_limited(bot.http.post("/api/track-visitor", json={}), "ip_blocked")
    assert 1790 <= redis_state.ttl("cooled", key_of(bot)) <= 1800
    assert_rate_limited(bot.on(b).get("/messages"), "ip_blocked")  # on every instance
    assert Socket(b, "/ws/events", fingerprint=bot.fingerprint, ip=bot.ip).close_code() == 4429

    # One offender behind an address (a carrier NAT) does not lock out the others.
    same_network = Browser(b, ip=bot.ip)
    assert same_network.get("/messages").status_code == 200
    assert redis_state.ttl("blocked_ip", bot.ip) == -2 and not IPBlock.objects.exists()


def test_several_offenders_on_one_network_block_it(servers, redis_state):
    a, b = servers
    ip = new_ip()
    for _ in range(3):  # NETWORK_OFFENDERS_TO_BLOCK distinct keys
        bot = Browser(a, ip=ip)
        for _ in range(21):
            bot.http.post("/api/track-visitor", json={})
    assert 1790 <= redis_state.ttl("blocked_ip", ip) <= 1800
    assert IPBlock.objects.get(ip=ip).reason == "burst_limit"
    assert_rate_limited(Browser(b, ip=ip).get("/messages"), "ip_blocked")
    assert Socket(b, "/ws/events", ip=ip).close_code() == 4429
    assert Browser(b).get("/messages").status_code == 200


# --- burst profiler --------------------------------------------------------------------


def page_load(server, fingerprint, ip):
    """What the web page fires when it opens: all at once, as a browser does."""
    person = Browser(server, fingerprint=fingerprint, ip=ip)
    calls = [
        lambda: person.get("/"),
        lambda: person.get("/messages", location="Pune", limit=50),
        lambda: person.get("/api/cooldown"),
        lambda: person.http.post("/api/track-visitor", json={"location": "Pune"}),
        lambda: person.get("/api/stats/daily"),
        lambda: person.get("/api/stats/cities", current_city="Pune"),
        lambda: person.get("/health"),
    ]
    with ThreadPoolExecutor(len(calls)) as pool:
        responses = list(pool.map(lambda call: call(), calls))
    socket = Socket(server, "/ws/events", fingerprint=fingerprint, ip=ip, location="Pune")
    socket.close()
    return [response.status_code for response in responses]


def test_page_loads_never_trigger_the_profiler(servers, redis_state):
    a, b = servers
    fingerprint, ip = "fp-real-browser-1", new_ip()
    for reload_number in range(4):  # opening the page and reloading it, on either instance
        assert page_load(servers[reload_number % 2], fingerprint, ip) == [200] * 7
    person = Browser(a, fingerprint=fingerprint, ip=ip)
    assert not redis_state.exists("shadowban", key_of(person))
    assert not redis_state.exists("blocked_ip", ip)
    assert BotDetection.objects.count() == 0
    posted = person.post_ok("PG for girls near Koramangala, 9k with food")  # normal use afterwards
    assert posted["id"] in visible_ids(Browser(b))


@pytest.mark.parametrize("attempt", range(3))
def test_five_distinct_endpoints_within_500_ms_always_trigger_it(servers, redis_state, attempt):
    a, b = servers
    messages = [Browser(a).post_ok(f"Room {i}", phone="9876501234") for i in range(5)]
    scraper = Browser(a)
    targets = [(a if i % 2 else b, m["id"]) for i, m in enumerate(messages)]
    with ThreadPoolExecutor(5) as pool:
        statuses = list(
            pool.map(lambda t: Browser(t[0], scraper.fingerprint, scraper.ip).get(f"/api/contact/{t[1]}").status_code, targets)
        )
    assert 429 in statuses
    assert 86390 <= redis_state.ttl("shadowban", key_of(scraper)) <= 86400
    assert 1790 <= redis_state.ttl("cooled", key_of(scraper)) <= 1800
    assert redis_state.ttl("blocked_ip", scraper.ip) == -2  # the key, not the whole network
    assert BotDetection.objects.filter(rule="burst_profiler", ip=scraper.ip).exists()
    assert Shadowban.objects.get(target=key_of(scraper)).reason == "burst_profiler"


# --- content filter --------------------------------------------------------------------


def test_content_filter_refuses_and_three_violations_shadowban(servers, redis_state):
    a, b = servers
    spammer = Browser(a)
    attempts = [
        "Room available, details at bit.ly/cheap-room",
        "Call me on nine eight seven six five four three two one zero",
        "Earn money from home, guaranteed returns, DM now",
    ]
    for n, text in enumerate(attempts, start=1):
        response = spammer.post(text)
        assert response.status_code == 403
        assert "9876" not in response.text
        if n < settings.KIRB["FILTER_VIOLATION_LIMIT"]:
            assert response.json()["error"] == "content_filter" and response.json()["rule"]
        else:  # the violation that bans, and every one after it, names no rule
            assert response.json()["error"] == "policy_violation" and "rule" not in response.json()
    assert 86390 <= redis_state.ttl("shadowban", key_of(spammer)) <= 86400
    assert redis_state.zcard("violations", key_of(spammer)) == 3

    hidden = spammer.on(b).post_ok("2BHK in Aundh, 25k, family only")  # looks accepted
    assert hidden["id"] in visible_ids(spammer, location="Pune")
    assert hidden["id"] not in visible_ids(Browser(b), location="Pune")


# --- honeypot --------------------------------------------------------------------------


def test_honeypot_refuses_and_shadowbans_permanently(servers, redis_state):
    a, b = servers
    bot = Browser(a)
    response = bot.post("Room in Kothrud", website="http://spam.example")
    assert response.status_code == 403 and response.json()["error"] == "policy_violation"
    assert redis_state.ttl("shadowban", key_of(bot)) == -1  # permanent
    assert Shadowban.objects.get(target=key_of(bot)).expires_at is None

    hidden = bot.on(b).post_ok("Room in Kothrud, genuine this time")
    assert hidden["id"] in visible_ids(bot)
    assert hidden["id"] not in visible_ids(Browser(a))


# --- reports ---------------------------------------------------------------------------


def test_three_reporter_networks_shadowban_the_fingerprint_for_review_five_delete(servers, redis_state):
    a, b = servers
    scammer = Browser(a)
    message = scammer.post_ok("Room in Baner near the IT park, token advance to confirm after visit")
    body = {"message_id": message["id"], "reported_browser_id": message["browser_id"]}
    watcher = Socket(b, "/ws/events", location="Pune")

    first = Browser(b)
    for _ in range(5):  # one person reporting five times counts once
        assert first.http.post("/api/report", json=body).status_code == 200
    assert not redis_state.exists("shadowban", "fp", scammer.fingerprint)
    assert scammer.http.post("/api/report", json=body).status_code == 400  # not yourself

    for reporter in (Browser(a), Browser(b)):  # each on a network of its own
        assert reporter.http.post("/api/report", json=body).status_code == 200
    review = settings.KIRB["REPORTS_REVIEW_SECONDS"]
    assert review - 10 <= redis_state.ttl("shadowban", "fp", scammer.fingerprint) <= review
    assert Shadowban.objects.get(target=scammer.fingerprint).reason == "reports"
    assert ModerationCase.objects.get(fingerprint=scammer.fingerprint).status == "pending"

    # The same browser on another network is still banned: its next post is hidden.
    moved = Browser(b, fingerprint=scammer.fingerprint)
    later = moved.post_ok("Another room, token advance")
    assert later["id"] in visible_ids(moved)
    assert later["id"] not in visible_ids(Browser(a))
    assert message["id"] in visible_ids(Browser(a))  # not deleted yet

    for reporter in (Browser(a), Browser(b)):
        reporter.http.post("/api/report", json=body)
    assert message["id"] not in visible_ids(Browser(a))
    deleted = watcher.recv_until(lambda frame: frame["type"] == "message_deleted")[-1]
    assert deleted["data"] == {"id": message["id"], "location": "Pune"}
    watcher.close()


# --- IP reputation ---------------------------------------------------------------------


def test_reports_against_a_network_lengthen_its_cooldown_then_throttle_then_shadowban(servers, start_server):
    _, b = servers
    a = start_server(KIRB_NETWORK_POST_LIMIT="100")  # the poster posts more than a network may
    poster_ip = new_ip()
    reported = [
        Message.objects.create(
            message=f"Room {n} from the risky network", message_type="offered", location="Pune", city_key="pune",
            public_id=f"pub-risky-{n}", poster_fingerprint=f"fp-risky-{n}", poster_key=f"{n:064x}", poster_ip=poster_ip,
        )
        for n in range(10)
    ]  # fmt: skip

    def reported_by(count):
        """``count`` more distinct reporter networks, each reporting one of the posts."""
        for message in reported[:count]:
            Browser(b).http.post("/api/report", json={"message_id": str(message.id), "reported_browser_id": message.public_id})
        del reported[:count]

    Browser(a, ip=poster_ip).post_ok("Level 0: the normal cooldown")
    reported_by(2)  # level 1: a five-minute cooldown
    poster = Browser(a, ip=poster_ip)
    poster.post_ok("First post at level 1")
    assert 295 <= assert_rate_limited(poster.post("Too soon"), "post_cooldown")["retry_after_seconds"] <= 300

    reported_by(6)  # 8 reporter networks, level 4: shadow-throttled, visible from that network only
    throttled = Browser(a, ip=poster_ip).post_ok("Throttled post")
    assert throttled["id"] in visible_ids(Browser(b, ip=poster_ip))
    assert throttled["id"] not in visible_ids(Browser(b))

    reported_by(2)  # level 5: shadowbanned, visible to the author only
    author = Browser(a, ip=poster_ip)
    banned = author.post_ok("Shadowbanned post")
    assert banned["id"] in visible_ids(author)
    assert banned["id"] not in visible_ids(Browser(b, ip=poster_ip))


# --- automation signals ----------------------------------------------------------------


@pytest.mark.parametrize(
    "headers, rule",
    [
        ({"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/126.0.0.0 Safari/537.36"}, "automation_user_agent"),
        ({"X-JA3-Hash": "e7d705a3286e19ea42f587b344ee6865"}, "tls_fingerprint"),
    ],
)
def test_automated_clients_read_but_posts_are_throttled_and_reveals_refused(servers, phone_post, headers, rule):
    a, b = servers
    message = phone_post()
    bot = Browser(a, headers=headers)
    assert message["id"] in visible_ids(bot)
    posted = bot.post_ok("Room near the station")
    assert posted["id"] in visible_ids(Browser(b, ip=bot.ip))  # visible from its own IP only
    assert posted["id"] not in visible_ids(Browser(b))
    assert_rate_limited(bot.get(f"/api/contact/{message['id']}"), "reveal_limit")
    assert BotDetection.objects.filter(rule=rule, ip=bot.ip).exists()


def test_tls_fingerprint_header_from_an_untrusted_peer_is_ignored(start_server, phone_post):
    server = start_server(TRUSTED_PROXIES="")
    message = phone_post()
    response = httpx.get(
        f"{server.url}/api/contact/{message['id']}",
        headers={"X-JA3-Hash": "e7d705a3286e19ea42f587b344ee6865", "User-Agent": "Mozilla/5.0 (Android) Chrome/126"},
    )
    assert response.status_code == 200


# --- blocked IPs -----------------------------------------------------------------------


def test_a_blocked_ip_is_refused_on_every_instance_until_the_block_expires(servers, redis_state):
    from security.blocks import block_ip

    a, b = servers
    ip = new_ip()
    block_ip(ip, reason="moderator", seconds=2)
    for server in servers:
        assert_rate_limited(Browser(server, ip=ip).get("/messages"), "ip_blocked")
        socket = Socket(server, "/ws/events", ip=ip)
        assert socket.recv()["data"]["error"] == "ip_blocked"
        assert socket.close_code() == 4429
    wait_for(lambda: not redis_state.exists("blocked_ip", ip), timeout=5)
    assert Browser(b, ip=ip).get("/messages").status_code == 200
