"""The web page in a real browser (headless Chromium), against real server processes.

Each person is a fresh browser context (its own fingerprint) on its own client IP
(X-Forwarded-For, believed from loopback in the test settings), sending a normal
Chrome user agent. Waits are Playwright expectations on the page, never fixed sleeps;
the only deliberate pauses model a person's speed where a defence keys on it.
"""

import datetime
import json
import random
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import transaction
from django.utils import timezone

from chat.models import CityView, Message
from devtools.instances import ServerProcess
from tests.browser.pages import BROWSER_SKIP_REASON, BROWSERS_AVAILABLE, expect
from tests.chat.test_admin import run_action
from tests.clients import Browser, new_ip

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not BROWSERS_AVAILABLE, reason=BROWSER_SKIP_REASON),
]

# A person does not click two buttons within 150 ms. The burst profiler (five distinct
# actions within 500 ms) is built to tell exactly that apart, so tests that act
# several times in a row pause this long between actions, as a person would.
HUMAN_PAUSE_MS = 150

LOAD_CALLS = ("GET /messages", "GET /api/cooldown", "POST /api/track-visitor", "GET /api/stats/daily", "GET /api/stats/cities")


def unique(text):
    """Post texts that no other test (or earlier run) can have produced."""
    return f"{text} [{uuid.uuid4().hex[:6]}]"


def api_calls(person):
    """'METHOD /path' of each request the page made (the page and the API), static files left out."""
    calls = []
    for _status, method, url in person.responses:
        path = url.split("://", 1)[1].split("/", 1)[1].split("?", 1)[0]
        if not path.startswith("static/"):
            calls.append(f"{method} /{path}")
    return calls


def store_with_events(messages):
    """Messages written straight to the database, each with its stream event (as a post
    gets), so that a page resuming with since=<one of them> finds where to go on from."""
    from chat import events, stream

    with transaction.atomic():
        Message.objects.bulk_create(messages)
        for message in sorted(messages, key=lambda m: m.created_at):
            stream.record(events.MESSAGE, message)
    return messages


def seed_messages(city, count, *, phone="9876501234", start_minutes_ago=5, spacing_minutes=3):
    """Messages written straight to the database, spread back in time (oldest last)."""
    now = timezone.now()
    rows = []
    for i in range(count):
        rows.append(
            Message(
                public_id=f"seed-{uuid.uuid4().hex[:10]}",
                poster_fingerprint=f"seed-{uuid.uuid4().hex[:10]}",
                message=f"Seeded room {i} in {city}, near the market",
                message_type="offered" if i % 3 else "requested",
                phone=phone,
                location=city,
                city_key=city.casefold(),
                created_at=now - datetime.timedelta(minutes=start_minutes_ago + i * spacing_minutes),
                poster_key=uuid.uuid4().hex,
                poster_ip=f"198.19.{200 + i // 250}.{i % 250 + 1}",
            )
        )
    return store_with_events(rows)


# --- 1. two instances ------------------------------------------------------------------


def test_a_post_reaches_a_person_on_the_other_instance_and_other_cities_stay_out(person, servers):
    a, b = servers
    writer = person("writer", city="Pune").open(a)
    reader = person("reader", city="Pune").open(b)
    # Each browser profile has its own fingerprint, in the form the server accepts.
    assert writer.fingerprint != reader.fingerprint
    assert all(re.fullmatch(r"[A-Za-z0-9._:-]{1,128}", fp) for fp in (writer.fingerprint, reader.fingerprint))

    text = unique("2BHK in Baner, 24k, semi-furnished, family preferred")
    posted = writer.post(text, phone="+91 98765 43210")
    writer.expect_post(text)
    # Within a second of the server accepting it, on the other instance.
    expect(reader.post_card(text)).to_have_count(1, timeout=1000)
    expect(reader.post_card(text).locator(".badge")).to_have_text("Room offered")
    expect(reader.post_card(text).locator(".post-city")).to_have_text("Pune")
    assert reader.card_by_id(posted["id"]).count() == 1

    # Another city's post does not arrive; a later sentinel in Pune does, so had the
    # other one been delivered, it would be there by now.
    elsewhere = unique("Room in Andheri West for a working woman")
    Browser(a).post_ok(elsewhere, location="Mumbai")
    sentinel = unique("PG in Kothrud with meals, two sharing")
    Browser(a).post_ok(sentinel, message_type="requested", location="Pune")
    reader.expect_post(sentinel)
    writer.expect_post(sentinel)
    reader.expect_no_post(elsewhere)
    writer.expect_no_post(elsewhere)
    expect(reader.post_card(sentinel).locator(".badge")).to_have_text("Room wanted")

    # The tabs filter what is shown, without asking the server again.
    calls = len(api_calls(reader))
    reader.page.get_by_role("button", name="Offered").click()
    expect(reader.post_card(text)).to_be_visible()
    expect(reader.post_card(sentinel)).to_be_hidden()
    reader.page.get_by_role("button", name="Wanted").click()
    expect(reader.post_card(text)).to_be_hidden()
    expect(reader.post_card(sentinel)).to_be_visible()
    expect(reader.page.get_by_role("button", name="Wanted")).to_have_attribute("aria-pressed", "true")
    reader.page.get_by_role("button", name="All").click()
    expect(reader.post_card(text)).to_be_visible()
    assert len(api_calls(reader)) == calls
    # Own post: no reveal or report on it, for its author.
    expect(writer.post_card(text).locator(".own-label")).to_have_text("Your post")
    expect(writer.post_card(text).get_by_role("button")).to_have_count(0)
    assert not writer.error_texts() and not reader.error_texts()


# --- 2. reveal -------------------------------------------------------------------------


def test_reveal_shows_the_number_and_the_sixth_reveal_in_an_hour_is_refused(person, servers):
    a, b = servers
    city = "Indore"
    posted = [
        Browser(a).post_ok(unique(f"Room {n} near Vijay Nagar, 9k, girls only"), phone=f"+91 98765 4321{n}", location=city)
        for n in range(6)
    ]
    seeker = person("seeker", city=city).open(b)
    # Newest first: the last one posted is on top.
    texts = seeker.page.locator("#feed .post .post-text").all_inner_texts()
    assert texts == [message["message"] for message in reversed(posted)]

    for n, message in enumerate(posted[:5]):
        card = seeker.card_by_id(message["id"])
        card.get_by_role("button", name="Show number").click()
        link = card.locator("a.phone-link")
        expect(link).to_have_attribute("href", f"tel:+919876543{210 + n}")
        expect(link).to_contain_text(f"+91 98765 4321{n}")
        left = 4 - n
        expect(card.locator(".post-note")).to_have_text(
            f"{left} reveals left this hour" if left > 1 else "1 reveal left this hour" if left == 1 else "That was your last reveal this hour."
        )
        seeker.page.wait_for_timeout(HUMAN_PAUSE_MS)

    sixth = seeker.card_by_id(posted[5]["id"])
    sixth.get_by_role("button", name="Show number").click()
    note = sixth.locator(".post-note")
    expect(note).to_contain_text("You have revealed as many numbers as allowed for now.")
    expect(note).to_contain_text("You can reveal another number in 1 hour")
    expect(note).to_have_attribute("data-kind", "error")
    expect(sixth.locator("a.phone-link")).to_have_count(0)
    refused = seeker.refused_responses()
    assert [status for status, _method, _url in refused] == [429], refused
    assert "/api/contact/" + posted[5]["id"] in refused[0][2]


# --- 3. reports ------------------------------------------------------------------------


def test_three_reports_hide_the_authors_later_posts_from_everyone_but_the_author(person, servers):
    a, b = servers
    city = "Chennai"
    author = person("author", city=city).open(b)
    reporters = [person(f"reporter-{n}", city=city).open(server) for n, server in enumerate((a, b, a))]

    first = unique("Single room in Velachery, 7k, ask the owner about the deposit")
    posted = author.post(first)
    for reporter in reporters:
        reporter.expect_post(first)

    for reporter in reporters:
        card = reporter.card_by_id(posted["id"])
        card.get_by_role("button", name="Report this post").click()
        expect(card.get_by_text("Report this post as a scam, spam or abuse?")).to_be_visible()
        card.get_by_role("button", name="Yes, report").click()
        expect(card.locator(".post-note")).to_have_text("Thank you, the report was recorded.")
        expect(card.locator(".reported-label")).to_have_text("Reported")

    # The author's phone moves from Wi-Fi to mobile data (a new address, so no post
    # cooldown) and posts again: the ban is on the browser's fingerprint, so it follows.
    fingerprint = author.fingerprint
    author.context.set_extra_http_headers({"X-Forwarded-For": new_ip()})
    author.reload()
    assert author.fingerprint == fingerprint  # the same browser profile, reloaded
    later = unique("Another single room in Velachery, deposit by UPI to book")
    hidden = author.post(later)
    author.expect_post(later)

    sentinel = unique("1BHK in Adyar for a couple, 16k, lift and parking")
    Browser(a).post_ok(sentinel, location=city)
    for reporter in reporters:
        reporter.expect_post(sentinel)
        reporter.expect_no_post(later)
    author.expect_post(sentinel)

    # The author still sees it after a reload (history), the others do not.
    author.reload()
    author.expect_post(later)
    assert author.card_by_id(hidden["id"]).count() == 1
    reporters[0].reload()
    reporters[0].expect_post(sentinel)
    reporters[0].expect_no_post(later)

    # Two more reporters (five in all) delete the first post: it leaves every page live.
    for _ in range(2):
        assert Browser(b).http.post(
            "/api/report", json={"message_id": posted["id"], "reported_browser_id": posted["browser_id"]}
        ).status_code == 200
    for viewer in (author, *reporters):
        expect(viewer.card_by_id(posted["id"])).to_have_count(0)
    assert not any(viewer.error_texts() for viewer in (author, *reporters))


def test_a_held_post_is_shown_to_its_author_as_waiting_and_to_everyone_once_approved(person, servers, moderator, held_text):
    a, b = servers
    author = person("author", city="Pune").open(a)
    reader = person("reader", city="Pune").open(b)
    text = unique(held_text)

    posted = author.post(text)
    assert posted["held_for_review"] is True
    expect(author.page.locator("#post-success")).to_have_text(
        re.compile("A moderator will check it before others can see it")
    )
    card = author.expect_post(text)
    expect(card.locator(".held-label")).to_have_text("Waiting for a moderator: only you can see it until then")

    sentinel = unique("1BHK in Kothrud, 15k, near the bus stop")
    Browser(a).post_ok(sentinel, location="Pune")
    reader.expect_post(sentinel)
    reader.expect_no_post(text)

    notes = moderate(moderator, "approve_and_publish", [posted["id"]], changelist="admin:chat_heldmessage_changelist")
    assert notes == ["1 message approved and published."]
    reader.expect_post(text)
    expect(author.card_by_id(posted["id"]).locator(".held-label")).to_have_count(0)
    assert author.card_by_id(posted["id"]).count() == 1
    assert not author.error_texts() and not reader.error_texts()


def test_a_post_a_moderator_deletes_and_restores_leaves_and_comes_back_where_it_was(person, servers, moderator):
    a, b = servers
    reader = person("reader", city="Pune").open(b)
    first = Browser(a).post_ok(unique("Single room in Aundh, 9k, near the university circle, girls only"), location="Pune")
    later = Browser(a).post_ok(unique("1RK in Pashan, 8k, water and electricity included"), location="Pune")
    reader.expect_post(first["message"])
    reader.expect_post(later["message"])

    assert moderate(moderator, "delete_and_remove", [first["id"]]) == ["1 message deleted and removed from live feeds."]
    expect(reader.card_by_id(first["id"])).to_have_count(0)

    notes = moderate(moderator, "restore_and_broadcast", [first["id"]])
    assert notes == ["1 message restored and broadcast again."]
    reader.expect_post(first["message"])  # live, without a reload
    ids = reader.page.locator("#feed .post").evaluate_all("items => items.map(item => item.dataset.id)")
    assert ids.index(later["id"]) < ids.index(first["id"])  # below the post that came after it
    assert not reader.error_texts()


def moderate(moderator, action, message_ids, **options):
    """An admin action, from a thread of its own as the admin runs in a server's worker
    thread: Playwright's sync API keeps an event loop running in the test's thread, where
    the broadcast's async_to_sync cannot run (the change would then reach the pages only
    with the hubs' next check of the event log, HUB_CHECK_SECONDS later)."""
    with ThreadPoolExecutor(max_workers=1) as admin_thread:
        return admin_thread.submit(run_action, moderator, action, message_ids, **options).result()


# --- 4. normal use trips no defence ------------------------------------------------------


def test_a_page_load_and_normal_use_trip_no_limit(person, servers):
    a, _ = servers
    city = "Hyderabad"
    seeded = seed_messages(city, 60)
    visitor = person("visitor").open(a)  # a first visit: every city
    expect(visitor.page.locator("#today-stats")).to_be_visible()
    expect(visitor.page.locator("#city-stats-note")).not_to_have_text("Loading…")

    # The load: one call of each kind, one WebSocket.
    calls = api_calls(visitor)
    assert sorted(calls) == sorted(["GET /", *LOAD_CALLS]), calls
    assert len(visitor.sockets) == 1 and "location=" not in visitor.sockets[0]

    visitor.choose_city(city)
    expect(visitor.posts()).to_have_count(50)
    assert "location=Hyderabad" in visitor.sockets[-1]

    # Scrolling to the end of the list brings the older page.
    visitor.page.locator("#feed .post").last.scroll_into_view_if_needed()
    visitor.page.mouse.wheel(0, 4000)
    expect(visitor.posts()).to_have_count(60)
    expect(visitor.page.locator("#feed-end")).to_have_text("That’s everything from the last 48 hours.")
    oldest = seeded[-1]
    expect(visitor.card_by_id(str(oldest.id))).to_have_count(1)
    assert visitor.page.locator("#feed .post").last.get_attribute("data-id") == str(oldest.id)

    visitor.page.keyboard.press("Home")
    posted = visitor.post(unique("Looking for a 1BHK near Hitech City, budget 20k"), message_type="requested", phone="98480 22338")
    visitor.expect_post(posted["message"])
    expect(visitor.page.locator("#post-success")).to_contain_text("Posted to Hyderabad.")
    expect(visitor.page.locator("#post-cooldown")).to_contain_text("You can post again in")
    expect(visitor.page.locator("#post-submit")).to_be_disabled()

    card = visitor.card_by_id(str(seeded[0].id))
    card.get_by_role("button", name="Show number").click()
    expect(card.locator("a.phone-link")).to_have_attribute("href", "tel:9876501234")
    expect(card.locator(".post-note")).to_have_text("4 reveals left this hour")

    assert visitor.refused_responses() == []
    assert all(status < 400 for status, _method, _url in visitor.responses), visitor.responses
    assert visitor.error_texts() == []
    assert visitor.console_errors == []
    calls = api_calls(visitor)
    assert calls.count("GET /messages") == 3  # the first load, the city, the older page
    assert calls.count("POST /api/track-visitor") == 1


# --- 5. reconnect ------------------------------------------------------------------------


def test_after_its_instance_dies_the_page_reconnects_and_shows_what_it_missed_once(person, servers, start_server, server_env, tmp_path):
    a, _ = servers
    city = "Kochi"
    own = start_server()
    before = Browser(a).post_ok(unique("Room in Kakkanad near Infopark, 8k"), location=city)
    reader = person("reader", city=city).open(own)
    reader.expect_post(before["message"])

    port = own.port
    own.kill()
    expect(reader.page.locator("#connection")).not_to_have_attribute("data-state", "live")
    expect(reader.page.locator("#connection .connection-text")).to_have_text(re.compile("Reconnecting…|Offline"))
    missed = Browser(a).post_ok(unique("2BHK in Edappally, 18k, near Lulu"), location=city)

    revived = ServerProcess(server_env, port=port, log_path=tmp_path / "revived.log")
    try:
        revived.start()
        expect(reader.page.locator("#connection")).to_have_attribute("data-state", "live", timeout=30000)
        expect(reader.card_by_id(missed["id"])).to_have_count(1)
        after = Browser(a).post_ok(unique("PG for men in Kaloor, 6k with food"), location=city)
        expect(reader.card_by_id(after["id"])).to_have_count(1)
        expect(reader.card_by_id(missed["id"])).to_have_count(1)
        expect(reader.card_by_id(before["id"])).to_have_count(1)
        ids = reader.page.locator("#feed .post").evaluate_all("items => items.map(item => item.dataset.id)")
        assert ids[:3] == [after["id"], missed["id"], before["id"]]
        assert len(ids) == len(set(ids))
        # It resumed from the last message it had seen.
        assert any(f"since={before['id']}" in url for url in reader.sockets[1:]), reader.sockets
        assert [call for call in api_calls(reader) if call == "GET /messages"] == ["GET /messages"]
    finally:
        revived.kill()


# --- 6. markup stays text -------------------------------------------------------------------


def test_markup_is_refused_and_ordinary_text_with_html_characters_is_shown_as_written(person, servers):
    a, b = servers
    city = "Jaipur"
    viewer = person("viewer", city=city).open(b)
    writer = person("writer", city=city).open(a)
    page = writer.page

    # Markup never gets in (krib's client renders posts as HTML), and the page says why.
    page.get_by_label("Your post").fill('<img src=x onerror="window.__xss=1"> room near MI Road')
    with page.expect_response(lambda r: r.url.endswith("/messages") and r.request.method == "POST") as answer:
        page.locator("#post-submit").click()
    assert answer.value.status == 400
    expect(page.locator("#post-error")).to_have_text(re.compile("HTML markup"))
    assert Browser(a).post('<script>window.__xss=1</script> PG', location=city).status_code == 400

    # What people really write with &, < and > shows exactly as written, with no
    # escaping artefacts, live and from the history.
    ordinary = unique("2BHK & 3BHK, <10 min to metro, rent >= ₹18k, AT&T office")
    writer.post(ordinary)
    for someone in (viewer, writer):
        expect(someone.post_card(ordinary).locator(".post-text")).to_have_text(ordinary)
    viewer.reload()
    expect(viewer.post_card(ordinary).locator(".post-text")).to_have_text(ordinary)
    assert viewer.page.locator("#feed img, #feed script, #feed iframe").count() == 0
    assert viewer.page.evaluate("typeof window.__xss") == "undefined"
    assert viewer.console_errors == []


# --- the form's errors ------------------------------------------------------------------------


def test_refusals_and_network_failures_are_shown_as_sentences(person, servers):
    a, _ = servers
    someone = person("someone", city="Lucknow").open(a)
    page = someone.page
    form_error = page.locator("#post-error")

    # Checked in the page, as the server would: nothing is sent.
    page.get_by_label("Your post").fill("Room in Gomti Nagar for a student")
    page.get_by_label(re.compile("^Phone number")).fill("98765")
    page.locator("#post-submit").click()
    expect(page.locator("#post-phone-error")).to_have_text("A phone number has 10 to 15 digits; this one has 5.")
    expect(page.get_by_label(re.compile("^Phone number"))).to_have_attribute("aria-invalid", "true")
    assert page.evaluate("document.activeElement.id") == "post-phone"
    page.get_by_label("Your post").fill("x" * 501)
    expect(page.locator("#post-counter")).to_have_text("501 / 500")
    page.get_by_label(re.compile("^Phone number")).fill("")
    page.locator("#post-submit").click()
    expect(page.locator("#post-text-error")).to_have_text("Your post is 1 character too long (at most 500).")

    # The server's refusal, in its own words.
    page.get_by_label("Your post").fill("Room in Gomti Nagar, call me on 9876543210")
    with page.expect_response(lambda r: r.url.endswith("/messages") and r.request.method == "POST") as answer:
        page.locator("#post-submit").click()
    assert answer.value.status == 403
    expect(form_error).to_have_text(
        "Please remove the phone number from the text: people can reveal your number with the button instead."
    )

    # No network at all.
    page.route("**/messages", lambda route: route.abort() if route.request.method == "POST" else route.fallback())
    page.get_by_label("Your post").fill("Room in Gomti Nagar for a student, 6k")
    page.locator("#post-submit").click()
    expect(form_error).to_have_text("Can’t reach Kirb. Check your connection and try again.")
    page.unroute("**/messages")

    # A proxy's HTML error page: still a sentence, not markup.
    page.route("**/messages", lambda route: route.fulfill(status=502, body="<html>Bad gateway</html>", content_type="text/html") if route.request.method == "POST" else route.fallback())
    page.locator("#post-submit").click()
    expect(form_error).to_have_text("Kirb is restarting. Please try again in a moment.")
    page.unroute("**/messages")

    # The same person posted from another tab a moment ago: the cooldown refuses this
    # one, the page says how long to wait and counts down.
    other_tab = Browser(a, fingerprint=someone.fingerprint, ip=someone.ip)
    other_tab.post_ok("Room in Gomti Nagar for a student, 6k", location="Lucknow")
    page.get_by_label("Your post").fill("Room in Aliganj for a student, 5k")
    with page.expect_response(lambda r: r.url.endswith("/messages") and r.request.method == "POST") as answer:
        page.locator("#post-submit").click()
    assert answer.value.status == 429
    expect(form_error).to_have_text(re.compile(r"^You can post again in (\d+ seconds|1 minute)\.$"))
    expect(page.locator("#post-cooldown")).to_have_text(re.compile(r"^You can post again in [01]:\d\d$"))
    expect(page.locator("#post-submit")).to_be_disabled()
    assert "{" not in form_error.inner_text()


# --- accessibility basics -------------------------------------------------------------------------


def test_the_page_is_labelled_keyboard_usable_and_hides_its_honeypot(person, servers):
    a, _ = servers
    someone = person("keyboard", city="Pune").open(a)
    page = someone.page
    assert page.evaluate("document.documentElement.lang") == "en"
    assert "Kirb" in page.title()
    assert page.locator('meta[name="viewport"]').get_attribute("content") == "width=device-width, initial-scale=1"
    assert page.locator("script:not([src]):not([type='application/json'])").count() == 0  # no inline scripts
    assert page.locator("[onclick], [onload], [onerror], [onsubmit]").count() == 0

    for label in ("City", "Your post", "I have a room", "I need a room"):
        expect(page.get_by_label(label, exact=True)).to_have_count(1)
    expect(page.get_by_label(re.compile("^Phone number"))).to_have_count(1)

    honeypot = page.locator("#post-website")
    assert honeypot.get_attribute("tabindex") == "-1" and honeypot.get_attribute("autocomplete") == "off"
    assert page.locator(".hp").get_attribute("aria-hidden") == "true"
    box = honeypot.bounding_box()
    assert box is None or box["x"] + box["width"] <= 0
    expect(page.get_by_role("textbox", name="Website")).to_have_count(0)

    # The keyboard reaches everything in order and never the honeypot.
    reached = []
    for _ in range(14):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()"))
    assert "post-website" not in reached
    for target in ("city-select", "post-text", "post-phone", "post-submit"):
        assert target in reached, reached
    # A visible focus ring.
    page.focus("#post-submit")
    assert page.evaluate("getComputedStyle(document.querySelector('#post-submit')).outlineStyle") == "solid"


# --- 7. screenshots ----------------------------------------------------------------------------

REALISTIC_POSTS = [
    ("offered", "2BHK in HSR Layout, sector 2. ₹28k rent, 2 months deposit, semi-furnished with wardrobes and a modular kitchen. Available from 1 Dec. Working professionals or a small family."),
    ("requested", "Looking for a single room or PG near Manyata Tech Park for a working woman. Budget up to ₹12k, veg food preferred, moving in next week."),
    ("offered", "Room in a 3BHK in Koramangala 5th block, sharing with two software engineers. ₹16k all inclusive, Wi-Fi and maid. No brokerage."),
    ("requested", "Couple looking for a 1BHK in Indiranagar or Domlur, up to ₹25k. Pet friendly please, we have a small indie dog."),
    ("offered", "Fully furnished studio near Whitefield metro, ₹19k. Power backup, gym in the society. Bachelors welcome."),
    ("offered", "PG for men in BTM 2nd stage, twin sharing ₹8,500 with breakfast and dinner. Walking distance to Silk Board."),
]


def test_screenshots_at_phone_and_desktop_widths(person, servers, screenshot_dir):
    a, b = servers
    city = "Bengaluru"
    now = timezone.now()
    minutes_ago = [2, 9, 27, 64, 180, 410]
    store_with_events([
        Message(
            public_id=f"seed-{n}-{uuid.uuid4().hex[:8]}",
            poster_fingerprint=f"seed-{n}-{uuid.uuid4().hex[:8]}",
            message=text,
            message_type=kind,
            phone="+919845012345" if n != 1 else "",
            location=city,
            city_key=city.casefold(),
            created_at=now - datetime.timedelta(minutes=minutes_ago[n]),
            poster_key=uuid.uuid4().hex,
            poster_ip=f"198.19.250.{n + 1}",
        )
        for n, (kind, text) in enumerate(REALISTIC_POSTS)
    ])
    views = {"Bengaluru": 412, "Mumbai": 388, "Pune": 264, "Hyderabad": 231, "Delhi": 198, "Chennai": 143, "Gurugram": 97}
    today = now.date()
    rng = random.Random(7)
    CityView.objects.bulk_create(
        CityView(
            day=today - datetime.timedelta(days=rng.randrange(7)), city_key=city_name.casefold(), city=city_name,
            viewer_key=f"{city_name}-{n}",
        )
        for city_name, count in views.items()
        for n in range(count)
    )

    phone = person("phone", viewport=(360, 780), mobile=True, city=city, reduced_motion="reduce").open(a)
    desktop = person("desktop", viewport=(1280, 900), city=city, reduced_motion="reduce").open(b)
    for someone in (phone, desktop):
        expect(someone.posts()).to_have_count(len(REALISTIC_POSTS))
        expect(someone.page.locator("#city-stats .city-stat")).to_have_count(6)
        # Nothing is wider than the screen.
        assert someone.page.evaluate("document.documentElement.scrollWidth") <= someone.page.viewport_size["width"]

    first = desktop.posts().first
    first.get_by_role("button", name="Show number").click()
    expect(first.locator("a.phone-link")).to_have_text("Call +91 98450 12345")
    third = desktop.posts().nth(2)
    third.get_by_role("button", name="Report this post").click()
    desktop.page.get_by_label("Your post").fill("1BHK in Jayanagar 4th block, ₹17k, ")

    phone.page.screenshot(path=screenshot_dir / "feed-360.png", full_page=True)
    phone.page.screenshot(path=screenshot_dir / "feed-360-first-screen.png")
    desktop.page.screenshot(path=screenshot_dir / "feed-1280.png", full_page=True)
    # The phone's form, opened, with a number revealed further down.
    phone.posts().first.get_by_role("button", name="Show number").click()
    expect(phone.posts().first.locator("a.phone-link")).to_be_visible()
    phone.open_composer()
    phone.page.get_by_label("I need a room").check()
    phone.page.get_by_label("Your post").fill("Looking for a room near Electronic City for two months, up to ₹10k.")
    phone.page.evaluate("window.scrollTo(0, 0)")
    phone.page.screenshot(path=screenshot_dir / "composer-360.png")
    for name in ("feed-360.png", "feed-360-first-screen.png", "feed-1280.png", "composer-360.png"):
        assert (screenshot_dir / name).stat().st_size > 10_000


# --- leaving a draining server -----------------------------------------------------------------


def test_a_draining_server_is_left_at_once_and_the_feed_resumes_where_it_was(person, servers):
    a, b = servers
    city = "Nagpur"
    first = Browser(a).post_ok(unique("Room in Dharampeth, 7k, near the college"), location=city)
    routes = []

    def through_to_the_server(route):
        routes.append(route)
        route.connect_to_server()

    readers = []
    for name, server in (("notice", a), ("restart", b)):
        reader = person(name, city=city)
        reader.page.route_web_socket(re.compile(r"/ws/events"), through_to_the_server)
        readers.append(reader.open(server))
    by_notice, by_close = readers
    assert len(routes) == 2

    # The server announces it is draining (operations work: a notice, then 1012).
    notice = json.dumps({"type": "notice", "data": {"code": "draining"}})
    started = time.monotonic()
    with by_notice.page.expect_websocket():
        routes[0].send(notice)
    by_notice.wait_live()
    quick = time.monotonic() - started
    started = time.monotonic()
    with by_close.page.expect_websocket():
        routes[1].close(code=1012, reason="Service restart")
    by_close.wait_live()
    # No backoff: within the small random delay (at most 0.75 s) plus the handshake.
    assert max(quick, time.monotonic() - started) < 2.0
    for reader in readers:
        assert f"since={first['id']}" in reader.sockets[-1], reader.sockets

    missed_nothing = Browser(a).post_ok(unique("2BHK in Manish Nagar, 15k"), location=city)
    for reader in readers:
        expect(reader.card_by_id(missed_nothing["id"])).to_have_count(1)
        expect(reader.card_by_id(first["id"])).to_have_count(1)
        assert api_calls(reader).count("GET /messages") == 1


# --- clocks tick in the page ---------------------------------------------------------------------


def test_the_cooldown_and_the_times_tick_in_the_page_without_asking_the_server(person, servers):
    a, _ = servers
    someone = person("clock", city="Bhopal")
    someone.page.clock.install()
    someone.open(a)
    posted = someone.post(unique("Room near MP Nagar zone 2, 6k, for a working man"))
    card = someone.card_by_id(posted["id"])
    expect(card.locator(".post-time")).to_have_text("just now")
    cooldown = someone.page.locator("#post-cooldown")
    expect(cooldown).to_have_text(re.compile(r"^You can post again in (1:00|0:5\d)$"))
    expect(someone.page.locator("#post-submit")).to_be_disabled()
    calls_before = len(api_calls(someone))

    # Half a minute later (the keep-alive ping goes out, and is answered)...
    with someone.websockets[-1].expect_event("framereceived", predicate=lambda frame: '"pong"' in str(frame)):
        someone.page.clock.fast_forward(30_000)
    expect(cooldown).to_have_text(re.compile(r"^You can post again in 0:[23]\d$"))
    # ...and a minute later: the form is open again, the post is "1 min ago".
    someone.page.clock.fast_forward(31_000)
    expect(someone.page.locator("#post-submit")).to_be_enabled()
    expect(cooldown).to_be_hidden()
    expect(card.locator(".post-time")).to_have_text("1 min ago")
    expect(someone.page.locator("#connection")).to_have_attribute("data-state", "live")
    assert len(api_calls(someone)) == calls_before  # no polling


# --- a page left open ------------------------------------------------------------------------


def test_a_page_left_open_keeps_a_bounded_feed_and_loads_the_rest_on_demand(person, start_server):
    server = start_server(KIRB_PAGE_MAX_POSTS="5")
    city = "Nagpur"
    seeded = seed_messages(city, 4)  # newest first
    reader = person("reader", city=city).open(server)
    expect(reader.posts()).to_have_count(4)

    live = [Browser(server).post_ok(unique(f"Live room {n} near Sitabuldi"), location=city) for n in range(3)]
    reader.expect_post(live[-1]["message"])
    expect(reader.posts()).to_have_count(5)  # the two oldest left the page
    for gone in seeded[-2:]:
        expect(reader.card_by_id(str(gone.id))).to_have_count(0)

    # Scrolling to the end brings them back (the page loads older posts as they come into view).
    reader.page.locator("#feed .post").last.scroll_into_view_if_needed()
    reader.page.mouse.wheel(0, 4000)
    expect(reader.posts()).to_have_count(7)
    assert reader.page.locator("#feed .post").last.get_attribute("data-id") == str(seeded[-1].id)
    assert reader.console_errors == []
