"""The attacker's view: each row of issue 10's attack table, against real servers.

Every client here really connects from its own loopback address (127.x.y.z) to
servers that trust no proxy, so "one IP" and "another network" are what the kernel
says, not a header. A rule must stop the attacker and leave the innocent on the same
address (a carrier NAT) alone.
"""

import itertools
import uuid

import httpx
import pytest
from django.conf import settings
from django.core.management import call_command

from chat.models import Message
from security.models import ModerationCase, Report, Shadowban
from tests.clients import BROWSER_USER_AGENT, Browser, Socket, visible_ids, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

AUTOMATION_USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/126.0.0.0 Safari/537.36"
_networks = itertools.count(1)


def new_network():
    """A fresh /24 of the loopback range; ``address(n)`` is its n-th host."""
    n = next(_networks)
    return lambda host=1: f"127.{100 + n // 256}.{n % 256}.{host}"


@pytest.fixture(scope="module")
def servers_without_proxies(server_env, tmp_path_factory):
    from tests.conftest import ServerPool

    pool = ServerPool({**server_env, "TRUSTED_PROXIES": ""}, tmp_path_factory.mktemp("adversary"))
    yield [pool.start(), pool.start()]
    pool.stop_all()


@pytest.fixture
def server(servers_without_proxies):
    return servers_without_proxies[0]


def at(server, address, **kwargs):
    return Browser(server, source_address=address, **kwargs)


def stored_message(text="Room in Kothrud, 14k", phone="9876543210", poster_fingerprint=None, poster_ip="127.9.9.9"):
    fingerprint = poster_fingerprint or f"victim-{uuid.uuid4().hex[:8]}"
    return Message.objects.create(
        message=text, message_type="offered", location="Pune", city_key="pune", phone=phone,
        public_id=f"pub-{uuid.uuid4().hex[:8]}", poster_fingerprint=fingerprint, poster_key=uuid.uuid4().hex * 2,
        poster_ip=poster_ip,
    )  # fmt: skip


def report(browser, message):
    return browser.http.post("/api/report", json={"message_id": str(message.id), "reported_browser_id": message.public_id})


def test_one_address_rotating_fingerprints_gets_the_network_ceilings(servers_without_proxies):
    a, b = servers_without_proxies
    scraper = new_network()(7)
    posts = [at((a, b)[n % 2], scraper).post(f"Room number {n} near the station") for n in range(8)]
    assert [r.status_code for r in posts].count(200) == 3  # NETWORK_POST_LIMIT, across both instances
    assert {r.json()["error"] for r in posts if r.status_code != 200} == {"ip_rate_limited"}

    messages = [stored_message(f"Flat {n} in Baner") for n in range(25)]
    reveals = [at((a, b)[n % 2], scraper).get(f"/api/contact/{message.id}") for n, message in enumerate(messages)]
    assert [r.status_code for r in reveals].count(200) == 20  # NETWORK_REVEAL_LIMIT
    assert all(r.status_code == 429 for r in reveals[20:])

    neighbour = at(a, new_network()(7))  # another network is untouched
    assert neighbour.get(f"/api/contact/{messages[0].id}").status_code == 200


def test_a_reveal_refused_for_its_network_does_not_count_against_the_client(start_server):
    """The network's ceiling refused it, so no number was shown: the client's own
    REVEAL_LIMIT must not have been spent on it."""
    server = start_server(TRUSTED_PROXIES="", KIRB_NETWORK_REVEAL_LIMIT="2", KIRB_NETWORK_REVEAL_WINDOW_SECONDS="3")
    address = new_network()(7)
    messages = [stored_message(f"Flat {n} in Aundh") for n in range(4)]
    first = at(server, address)
    assert [first.get(f"/api/contact/{m.id}").status_code for m in messages[:2]] == [200, 200]

    second = at(server, address)  # another fingerprint behind the same address
    refused = second.get(f"/api/contact/{messages[2].id}")
    assert refused.status_code == 429 and refused.json()["error"] == "ip_rate_limited"

    def revealed():
        answer = second.get(f"/api/contact/{messages[3].id}")
        return answer.status_code == 200 and answer.json()

    # Slowly: polling fast would trip the burst limit, a refusal of its own.
    assert wait_for(revealed, message="the network's window to pass", interval=0.5)["reveals_remaining"] == settings.KIRB["REVEAL_LIMIT"] - 1


def test_one_address_inventing_reporters_counts_once(server):
    victim = stored_message("2BHK in Wakad, 20k")
    attacker = new_network()(3)
    answers = [report(at(server, attacker), victim) for _ in range(10)]
    assert all(r.status_code == 200 for r in answers)
    assert all(r.json()["reports_on_ip"] == 1 for r in answers)  # no hint of any threshold

    victim.refresh_from_db()
    assert not victim.is_deleted
    assert not Shadowban.objects.filter(target=victim.poster_fingerprint).exists()
    assert not ModerationCase.objects.exists()
    # The victim's address (a carrier NAT) gets no risk level: a neighbour posts publicly.
    neighbour = at(server, victim.poster_ip)
    posted = neighbour.post_ok("Room in Wakad for a student")
    assert posted["id"] in visible_ids(at(server, new_network()()), location="Pune")


def test_reports_from_distinct_networks_open_a_case_that_a_moderator_decides(server, moderator):
    victim = stored_message("1RK in Aundh, 9k")
    reporters = [at(server, new_network()()) for _ in range(5)]
    for reporter in reporters[:3]:
        assert report(reporter, victim).status_code == 200
    case = ModerationCase.objects.get(fingerprint=victim.poster_fingerprint)
    ban = Shadowban.objects.active().get(target=victim.poster_fingerprint)
    assert case.status == "pending" and ban.expires_at is not None  # temporary until reviewed
    for reporter in reporters[3:]:
        report(reporter, victim)
    victim.refresh_from_db()
    assert victim.is_deleted

    from django.urls import reverse

    changelist = reverse("admin:security_moderationcase_changelist")
    page = moderator.get(reverse("admin:security_moderationcase_change", args=[case.pk])).content.decode()
    assert reporters[0].ip.rsplit(".", 1)[0] in page  # the reporter networks are shown
    moderator.post(changelist, {"action": "dismiss_cases", "_selected_action": [case.pk]})
    case.refresh_from_db()
    victim.refresh_from_db()
    assert case.status == "dismissed" and not victim.is_deleted
    assert not Shadowban.objects.active().filter(target=victim.poster_fingerprint).exists()


def fingerprintless_browser(server):
    """A browser on a network of its own that sends no fingerprint header."""
    transport = httpx.HTTPTransport(local_address=new_network()())
    return httpx.Client(base_url=server.url, transport=transport, headers={"User-Agent": BROWSER_USER_AGENT})


def test_a_missing_fingerprint_is_never_banned_for_everyone(server):
    anonymous = fingerprintless_browser(server)
    posted = anonymous.post("/messages", json={"message": "Room in Hadapsar", "message_type": "offered", "location": "Pune"})
    assert posted.status_code == 200
    message = Message.objects.get(id=posted.json()["id"])
    assert message.poster_fingerprint.startswith("unknown@")
    for _ in range(5):
        assert report(at(server, new_network()()), message).status_code == 200
    assert not Shadowban.objects.exists() and not ModerationCase.objects.exists()
    message.refresh_from_db()
    assert not message.is_deleted

    elsewhere = fingerprintless_browser(server)
    other = elsewhere.post("/messages", json={"message": "Room in Kharadi", "message_type": "offered", "location": "Pune"})
    assert other.json()["id"] in visible_ids(at(server, new_network()()), location="Pune")

    Shadowban.objects.create(target_type="fingerprint", target="unknown", reason="reports")  # an old version's ban
    call_command("unban", "unknown")  # can be lifted now
    assert not Shadowban.objects.active().exists()


def test_reports_from_shadowbanned_or_automated_clients_move_nothing(server):
    victim = stored_message("PG for girls in Viman Nagar")
    bots = [at(server, new_network()(), headers={"User-Agent": AUTOMATION_USER_AGENT}) for _ in range(3)]
    banned = [at(server, new_network()()) for _ in range(3)]
    for reporter in banned:
        Shadowban.objects.create(target_type="key", target=key_of_browser(reporter), reason="moderator")
    call_command("sync_bans")
    for reporter in bots + banned:
        assert report(reporter, victim).status_code == 200
    assert Report.objects.filter(message_uuid=victim.id).count() == 6
    assert not Report.objects.filter(message_uuid=victim.id, counted=True).exists()
    assert not Shadowban.objects.filter(target=victim.poster_fingerprint).exists()


def key_of_browser(browser):
    from security.identity import composite_key

    return composite_key(browser.ip, browser.fingerprint)


def test_cities_and_visitor_cities_must_be_real(server):
    address = new_network()()
    for n, junk in enumerate(["T.me Punerooms", "Chutiya Nagar", "nine eight two two zero one"]):
        visitor = at(server, address)
        assert visitor.http.post("/api/track-visitor", json={"location": junk}).status_code == 400
        assert visitor.post(f"Room {n}", location=junk).status_code == 400
    cities = [row["city"] for row in at(server, new_network()()).get("/api/stats/cities").json()]
    assert not {"T.me Punerooms", "Chutiya Nagar"} & set(cities)


def test_bidirectional_overrides_are_refused(server):
    poster = at(server, new_network()())
    response = poster.post("Room in Baner, call \u202e54321 02289\u202c")
    assert response.status_code == 400 and response.json()["error"] == "invalid_input"
    assert Message.objects.count() == 0


def test_cf_connecting_ip_is_believed_only_from_cloudflare(start_server):
    trusting_nginx = start_server(TRUSTED_PROXIES="127.0.0.1/32")
    headers = {"X-Forwarded-For": "198.18.3.4", "CF-Connecting-IP": "198.51.100.7"}
    picked = Browser(trusting_nginx, headers=headers).post_ok("Room near FC Road")
    assert Message.objects.get(id=picked["id"]).poster_ip == "198.18.3.4"  # the header is ignored

    behind_cloudflare = start_server(TRUSTED_PROXIES="127.0.0.1/32", CLOUDFLARE_PROXIES="198.18.0.0/15")
    through_cloudflare = Browser(behind_cloudflare, headers=headers).post_ok("Room near JM Road")
    assert Message.objects.get(id=through_cloudflare["id"]).poster_ip == "198.51.100.7"


def test_a_profiler_tripping_client_behind_a_shared_address_does_not_lock_out_the_rest(server):
    shared = new_network()(42)  # a carrier NAT
    scraper = at(server, shared)
    junk = [scraper.get(f"/api/contact/{uuid.uuid4()}") for _ in range(6)]
    assert junk[-1].status_code == 429
    assert scraper.get("/api/cooldown").status_code == 429  # the scraper itself is cooled down

    neighbour = at(server, shared)
    assert neighbour.get("/api/cooldown").status_code == 200
    assert neighbour.post("Room in Pimple Saudagar").status_code == 200

    for _ in range(2):  # two more offenders on the same address: now the network is blocked
        other = at(server, shared)
        for _ in range(6):
            other.get(f"/api/contact/{uuid.uuid4()}")
    assert at(server, shared).get("/api/cooldown").json()["error"] == "ip_blocked"


def test_a_shadowbanned_author_leaves_no_tell(servers_without_proxies):
    a, b = servers_without_proxies
    author = at(a, new_network()())
    Shadowban.objects.create(target_type="key", target=key_of_browser(author), reason="moderator")
    call_command("sync_bans")
    reader = at(b, new_network()())
    before = reader.get("/api/stats/daily").json()["message_count"]
    hidden = author.post_ok("Room in Baner, 15k")
    assert hidden["id"] in visible_ids(author, location="Pune")
    assert reader.get("/api/stats/daily").json()["message_count"] == before

    unknown_id = str(uuid.uuid4())
    for cursor in (hidden["id"], unknown_id):
        answer = reader.get("/messages", location="Pune", before=cursor)
        assert (answer.status_code, answer.json()["error"]) == (404, "unknown_message")
    first_frames = []
    for cursor in (hidden["id"], unknown_id):
        socket = Socket(b, "/ws/events", location="Pune", since=cursor)
        frame = socket.recv()
        first_frames.append((frame["type"], frame["data"].get("error")))
        socket.close()
    assert first_frames[0] == first_frames[1] == ("error", "unknown_since")


def test_repeated_filter_violations_stop_naming_the_rule(server):
    spammer = at(server, new_network()())
    answers = [spammer.post(f"Room {n}, contact t.me/roomsforyou{n}") for n in range(5)]
    assert all(r.status_code == 403 for r in answers)
    assert answers[0].json()["error"] == "content_filter" and "rule" in answers[0].json()
    assert all("rule" not in r.json() and r.json()["error"] == "policy_violation" for r in answers[2:])
