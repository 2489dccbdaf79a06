"""The moderators' admin for abuse defence, driven through Django's test client while
two real server instances enforce what it changes (same database, same Redis)."""

import datetime
import io
import re
from urllib.parse import urlencode

import pytest
import redis
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from redis.backoff import NoBackoff
from redis.retry import Retry

from devtools.embedded_redis import free_port
from security import blocks, shadowban, store
from security.identity import build_identity
from security.models import BotDetection, IPBlock, Reason, Report, Shadowban
from tests.clients import Browser, Socket, new_fingerprint, new_ip, visible_ids

pytestmark = pytest.mark.django_db(transaction=True)

SHADOWBANS = "admin:security_shadowban_changelist"
IP_BLOCKS = "admin:security_ipblock_changelist"
REPORTS = "admin:security_report_changelist"
BOT_DETECTIONS = "admin:security_botdetection_changelist"




def run_action(client, url_name, action, records, query=""):
    response = client.post(
        reverse(url_name) + query, {"action": action, "_selected_action": [r.pk for r in records], "index": 0}
    )
    assert response.status_code == 302, response.content[:500]
    return client.get(response["Location"])  # the changelist, with the action's messages


def page_messages(response):
    return [str(m) for m in response.context["messages"]]




def identity_of(browser):
    return build_identity(browser.ip, browser.fingerprint)


def reset_cooldown(redis_client, browser):
    """Posting is one per minute: a rule of its own, not what these tests are about."""
    redis_client.delete(store.key("cooldown", identity_of(browser).key))


def assert_blocked(server, ip):
    response = Browser(server, ip=ip).get("/messages")
    assert response.status_code == 429 and response.json()["error"] == "ip_blocked", response.text
    assert Socket(server, "/ws/events", ip=ip).close_code() == 4429


def unreachable_redis():
    """A client of a port nobody listens on, failing at once (no retries)."""
    return redis.Redis(port=free_port(), socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))


def listed(response):
    return list(response.context["cl"].result_list)


# --- shadowbans ------------------------------------------------------------------------


def test_lifting_a_shadowban_in_the_admin_makes_the_next_post_public_on_the_other_instance(
    servers, moderator, redis_state, redis_client
):
    a, b = servers
    author = Browser(a)
    key = identity_of(author).key
    shadowban.shadowban_key(identity_of(author), reason=Reason.CONTENT_FILTER, seconds=86400)
    hidden = author.post_ok("Posted while shadowbanned")
    assert hidden["id"] not in visible_ids(Browser(b))

    page = run_action(moderator, SHADOWBANS, "lift_shadowbans", Shadowban.objects.filter(target=key))
    assert page_messages(page) == ["1 shadowban lifted, on every instance."]
    assert Shadowban.objects.get(target=key).lifted_at is not None
    assert not redis_state.exists("shadowban", key)
    assert listed(page) == []  # gone from the default (active) list

    reset_cooldown(redis_client, author)
    public = Browser(a, fingerprint=author.fingerprint, ip=author.ip).post_ok("Posted after the lift")
    assert public["id"] in visible_ids(Browser(b))
    assert hidden["id"] not in visible_ids(Browser(b))  # what was hidden stays hidden


def test_a_lift_redis_missed_is_reported_and_manage_py_unban_repairs_it(moderator, redis_state, monkeypatch):
    fingerprint = new_fingerprint()
    shadowban.shadowban_fingerprint(fingerprint, reason=Reason.REPORTS)
    record = Shadowban.objects.get(target=fingerprint)
    unreachable = unreachable_redis()
    with monkeypatch.context() as patch:
        patch.setattr(store, "redis", lambda: unreachable)
        page = run_action(moderator, SHADOWBANS, "lift_shadowbans", [record])
    assert page_messages(page)[0].startswith("Redis is unavailable (")
    assert Shadowban.objects.get(pk=record.pk).lifted_at is not None
    assert redis_state.ttl("shadowban", "fp", fingerprint) == -1  # still enforced: what the message warns of

    out = io.StringIO()
    call_command("unban", fingerprint, stdout=out)
    assert out.getvalue().strip() == f"{fingerprint} has no active shadowban; nothing to lift."
    assert not redis_state.exists("shadowban", "fp", fingerprint)


def test_an_add_redis_refuses_is_rolled_back_and_reported(moderator, monkeypatch):
    unreachable = unreachable_redis()
    with monkeypatch.context() as patch:
        patch.setattr(store, "redis", lambda: unreachable)
        response = moderator.post(reverse("admin:security_ipblock_add"), {"ip": new_ip(), "duration": "1800"})
    assert response.status_code == 302 and response["Location"] == reverse("admin:security_ipblock_add")
    assert page_messages(moderator.get(response["Location"]))[0].startswith("Redis is unavailable (")
    assert not IPBlock.objects.exists()  # no record the instances would not enforce


def test_lifting_one_of_two_records_keeps_the_target_banned_and_says_so(servers, moderator, redis_state):
    fingerprint = new_fingerprint()
    shadowban.shadowban_fingerprint(fingerprint, reason=Reason.REPORTS)  # permanent
    shadowban.shadowban_fingerprint(fingerprint, reason=Reason.MODERATOR, seconds=3600)
    permanent, hourly = Shadowban.objects.filter(target=fingerprint).order_by("id")

    page = run_action(moderator, SHADOWBANS, "lift_shadowbans", [permanent])
    assert any("still enforced by 1 other active record" in m for m in page_messages(page))
    assert 3590 <= redis_state.ttl("shadowban", "fp", fingerprint) <= 3600  # now the hourly one's

    run_action(moderator, SHADOWBANS, "lift_shadowbans", [hourly])
    assert not redis_state.exists("shadowban", "fp", fingerprint)


def test_extend_and_make_permanent_change_the_redis_ttl(servers, moderator, redis_state):
    author = Browser(servers[0])
    key = identity_of(author).key
    shadowban.shadowban_key(identity_of(author), reason=Reason.BURST_PROFILER, seconds=3600)
    record = Shadowban.objects.get(target=key)

    page = run_action(moderator, SHADOWBANS, "extend_shadowbans", [record])
    assert page_messages(page) == ["1 shadowban extended, on every instance."]
    assert 3600 + 86400 - 10 <= redis_state.ttl("shadowban", key) <= 3600 + 86400
    record.refresh_from_db()
    assert abs((record.expires_at - timezone.now()).total_seconds() - (3600 + 86400)) < 10

    run_action(moderator, SHADOWBANS, "make_shadowbans_permanent", [record])
    assert redis_state.ttl("shadowban", key) == -1
    record.refresh_from_db()
    assert record.expires_at is None

    page = run_action(moderator, SHADOWBANS, "extend_shadowbans", [record])  # nothing to extend
    assert page_messages(page) == ["0 shadowbans extended, on every instance. 1 skipped: permanent or lifted."]
    assert redis_state.ttl("shadowban", key) == -1


def test_adding_a_shadowban_in_the_admin_hides_the_posts_everywhere(servers, moderator, redis_state):
    a, b = servers
    author = Browser(a)
    key = identity_of(author).key
    response = moderator.post(
        reverse("admin:security_shadowban_add"), {"target_type": "key", "target": key.upper(), "duration": "3600"}
    )
    assert response.status_code == 302, response.content[:2000]
    record = Shadowban.objects.get(target=key)  # stored as Kirb spells keys: lower case
    assert record.reason == Reason.MODERATOR and response["Location"] == reverse(SHADOWBANS)
    assert 3590 <= redis_state.ttl("shadowban", key) <= 3600

    hidden = author.post_ok("A post nobody else should see")
    assert hidden["id"] in visible_ids(author.on(b))
    assert hidden["id"] not in visible_ids(Browser(b))

    change_page = moderator.get(reverse("admin:security_shadowban_change", args=[record.pk])).content.decode()
    assert re.search(r"yes, (1:00:00|0:59:\d\d) left", change_page)  # what Redis enforces, on the record's page
    assert 'name="_save"' not in change_page


@pytest.mark.parametrize(
    "target_type, target, error",
    [
        ("key", "abc123", "64 hexadecimal characters"),
        ("fingerprint", "unknown", "that sends no fingerprint"),
        ("fingerprint", "has spaces in it", "not a fingerprint Kirb accepts"),
    ],
)
def test_the_shadowban_form_refuses_a_malformed_target(moderator, redis_client, target_type, target, error):
    response = moderator.post(
        reverse("admin:security_shadowban_add"), {"target_type": target_type, "target": target, "duration": "86400"}
    )
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Shadowban.objects.exists()
    assert not list(redis_client.scan_iter(match=store.key("shadowban", "*")))


def test_the_list_shows_active_records_unless_asked_for_expired_or_lifted(moderator):
    now = timezone.now()
    active = Shadowban.objects.create(target_type="fingerprint", target="fp-active", reason=Reason.REPORTS)
    expired = Shadowban.objects.create(
        target_type="fingerprint",
        target="fp-expired",
        reason=Reason.HONEYPOT,
        expires_at=now - datetime.timedelta(hours=1),
    )
    lifted = Shadowban.objects.create(
        target_type="fingerprint", target="fp-lifted", reason=Reason.MODERATOR, lifted_at=now
    )
    url = reverse(SHADOWBANS)
    default = moderator.get(url)
    assert listed(default) == [active]
    assert '<td class="field-expires">permanent</td>' in default.content.decode()
    assert listed(moderator.get(url + "?status=expired")) == [expired]
    assert listed(moderator.get(url + "?status=lifted")) == [lifted]
    assert set(listed(moderator.get(url + "?status=all"))) == {active, expired, lifted}
    assert listed(moderator.get(url + "?status=all&reason__exact=honeypot")) == [expired]


# --- IP blocks -------------------------------------------------------------------------


def test_blocking_an_ip_in_the_admin_refuses_it_on_both_instances_until_lifted(servers, moderator, redis_state):
    a, b = servers
    ip = new_ip()
    response = moderator.post(reverse("admin:security_ipblock_add"), {"ip": ip, "duration": "1800"})
    assert response.status_code == 302, response.content[:2000]
    block = IPBlock.objects.get(ip=ip)
    assert block.reason == Reason.MODERATOR
    assert 1790 <= redis_state.ttl("blocked_ip", ip) <= 1800
    for server in servers:
        assert_blocked(server, ip)
    assert Browser(b).get("/messages").status_code == 200  # only that address

    page = run_action(moderator, IP_BLOCKS, "lift_blocks", [block])
    assert page_messages(page)[-1] == "1 IP block lifted, on every instance."
    assert not redis_state.exists("blocked_ip", ip)
    for server in servers:
        assert Browser(server, ip=ip).get("/messages").status_code == 200


def test_a_permanent_ipv6_block_is_stored_the_way_clients_are_keyed(servers, moderator, redis_state):
    response = moderator.post(reverse("admin:security_ipblock_add"), {"ip": "2001:DB8:0:0::7", "duration": "permanent"})
    assert response.status_code == 302, response.content[:2000]
    assert IPBlock.objects.get().ip == "2001:db8::7" and IPBlock.objects.get().expires_at is None
    assert redis_state.ttl("blocked_ip", "2001:db8::/64") == -1  # an IPv6 block holds for its /64
    assert_blocked(servers[1], "2001:db8::7")
    assert_blocked(servers[1], "2001:db8::1:9")


def test_extend_and_make_permanent_an_ip_block(servers, moderator, redis_state):
    ip = new_ip()
    blocks.block_ip(ip, reason=Reason.BURST_LIMIT, seconds=1800)
    block = IPBlock.objects.get(ip=ip)

    page = run_action(moderator, IP_BLOCKS, "extend_blocks", [block])
    assert page_messages(page) == ["1 IP block extended, on every instance."]
    assert 5390 <= redis_state.ttl("blocked_ip", ip) <= 5400

    run_action(moderator, IP_BLOCKS, "make_blocks_permanent", [block])
    assert redis_state.ttl("blocked_ip", ip) == -1
    assert IPBlock.objects.get(ip=ip).expires_at is None
    assert_blocked(servers[0], ip)


@pytest.mark.parametrize(
    "ip, remote_addr, error",
    [
        ("not-an-ip", "127.0.0.1", "Enter a valid IPv4 or IPv6 address."),
        ("127.0.0.1", "127.0.0.1", "is a trusted proxy"),
        ("198.51.100.7", "198.51.100.7", "is your own address"),
    ],
)
def test_the_block_form_refuses_bad_addresses(moderator, redis_client, ip, remote_addr, error):
    response = moderator.post(
        reverse("admin:security_ipblock_add"), {"ip": ip, "duration": "1800"}, REMOTE_ADDR=remote_addr
    )
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not IPBlock.objects.exists()
    assert not list(redis_client.scan_iter(match=store.key("blocked_ip", "*")))


# --- reports ---------------------------------------------------------------------------


def make_reports(fingerprint, reporters_per_message):
    from chat.models import Message

    for n, reporters in enumerate(reporters_per_message):
        message = Message.objects.create(
            poster_fingerprint=fingerprint,
            public_id=f"pub-{n}",
            message=f"Room {n}",
            message_type="offered",
            poster_key="k" * 64,
            poster_ip="198.18.9.9",
        )
        for reporter in reporters:
            Report.objects.create(
                message=message, message_uuid=message.id, reported_fingerprint=fingerprint,
                poster_ip=message.poster_ip, reporter_key=reporter,
            )  # fmt: skip


def test_reports_are_listed_one_row_per_fingerprint_with_distinct_reporters(moderator):
    make_reports("fp-scammer", [["r1", "r2", "r3"], ["r1"]])  # 4 reports, 3 reporters, 2 messages
    make_reports("fp-once", [["r9"]])
    shadowban.shadowban_fingerprint("fp-scammer", reason=Reason.REPORTS)

    page = moderator.get(reverse(REPORTS))
    rows = [
        (r.reported_fingerprint, r.distinct_reporters, r.report_count, r.messages_reported, r.fingerprint_banned)
        for r in listed(page)
    ]
    assert rows == [("fp-scammer", 3, 4, 2, True), ("fp-once", 1, 1, 1, False)]
    assert len(listed(moderator.get(reverse(REPORTS) + "?rows=report"))) == 5
    every = listed(moderator.get(reverse(REPORTS) + "?rows=report&reported_fingerprint=fp-scammer"))
    assert len(every) == 4 and {r.distinct_reporters for r in every} == {3}


def test_shadowbanning_reported_fingerprints_from_the_reports_list(servers, moderator, redis_state):
    a, b = servers
    scammer = Browser(a)
    make_reports(scammer.fingerprint, [["r1", "r2"]])
    page = run_action(moderator, REPORTS, "shadowban_fingerprints", Report.objects.all())
    assert page_messages(page) == ["1 fingerprint shadowbanned permanently, on every instance."]
    assert redis_state.ttl("shadowban", "fp", scammer.fingerprint) == -1
    assert Shadowban.objects.get(target=scammer.fingerprint).reason == Reason.MODERATOR
    hidden = scammer.post_ok("Pay the token advance first")
    assert hidden["id"] not in visible_ids(Browser(b))

    run_action(moderator, REPORTS, "lift_fingerprint_shadowbans", Report.objects.all())
    assert not redis_state.exists("shadowban", "fp", scammer.fingerprint)


# --- bot detections --------------------------------------------------------------------


def test_bot_detections_are_read_only_and_filterable(moderator):
    old = BotDetection.objects.create(
        rule="honeypot", composite_key="a" * 64, ip="198.18.1.1", created_at=timezone.now() - datetime.timedelta(days=3)
    )
    new = BotDetection.objects.create(rule="burst_profiler", composite_key="b" * 64, ip="198.18.1.2")
    url = reverse(BOT_DETECTIONS)
    assert listed(moderator.get(url)) == [new, old]
    assert listed(moderator.get(url + "?rule=honeypot")) == [old]
    since = urlencode({"created_at__gte": (timezone.now() - datetime.timedelta(days=1)).isoformat()})
    assert listed(moderator.get(f"{url}?{since}")) == [new]

    assert moderator.get(reverse("admin:security_botdetection_add")).status_code == 403
    change_url = reverse("admin:security_botdetection_change", args=[new.pk])
    change_page = moderator.get(change_url)
    assert change_page.status_code == 200 and 'name="_save"' not in change_page.content.decode()
    assert moderator.post(change_url, {"rule": "edited"}).status_code == 403
    assert moderator.get(reverse("admin:security_botdetection_delete", args=[new.pk])).status_code == 403
    assert BotDetection.objects.get(pk=new.pk).rule == "burst_profiler"


# --- who gets in -----------------------------------------------------------------------


@pytest.fixture
def every_page():
    ban = Shadowban.objects.create(target_type="key", target="c" * 64, reason=Reason.HONEYPOT)
    block = IPBlock.objects.create(ip="198.18.2.2", reason=Reason.BURST_LIMIT)
    detection = BotDetection.objects.create(rule="honeypot", composite_key="d" * 64, ip="198.18.2.3")
    make_reports("fp-page", [["r1"]])
    report = Report.objects.get()
    return [
        reverse(SHADOWBANS), reverse("admin:security_shadowban_add"),
        reverse("admin:security_shadowban_change", args=[ban.pk]),
        reverse(IP_BLOCKS), reverse("admin:security_ipblock_add"),
        reverse("admin:security_ipblock_change", args=[block.pk]),
        reverse(REPORTS), reverse("admin:security_report_change", args=[report.pk]),
        reverse(BOT_DETECTIONS), reverse("admin:security_botdetection_change", args=[detection.pk]),
    ]  # fmt: skip


def test_anonymous_and_non_staff_users_are_sent_to_the_login_page(every_page, django_user_model):
    member = django_user_model.objects.create_user("reader", password="not-used-here-1")
    logged_in = Client()
    logged_in.force_login(member)
    for client in (Client(), logged_in):
        for url in every_page:
            response = client.get(url)
            assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), url


def test_staff_without_permissions_gets_nothing(every_page, django_user_model, redis_state):
    staff = django_user_model.objects.create_user("new-moderator", password="not-used-here-1", is_staff=True)
    client = Client()
    client.force_login(staff)
    for url in every_page:
        assert client.get(url).status_code == 403, url
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200 and index.context["app_list"] == []

    ip = new_ip()
    blocks.block_ip(ip, reason=Reason.MODERATOR, seconds=600)
    response = client.post(
        reverse(IP_BLOCKS), {"action": "lift_blocks", "_selected_action": [IPBlock.objects.get(ip=ip).pk]}
    )
    assert response.status_code == 403
    response = client.post(reverse("admin:security_ipblock_add"), {"ip": new_ip(), "duration": "1800"})
    assert response.status_code == 403
    assert redis_state.exists("blocked_ip", ip) and IPBlock.objects.active().filter(ip=ip).exists()
    assert IPBlock.objects.count() == 2  # the fixture's and this one: nothing added


def test_a_view_only_moderator_sees_bans_but_cannot_lift_them(django_user_model, redis_state):
    viewer = django_user_model.objects.create_user("viewer", password="not-used-here-1", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_shadowban"))
    client = Client()
    client.force_login(viewer)
    fingerprint = new_fingerprint()
    shadowban.shadowban_fingerprint(fingerprint, reason=Reason.REPORTS)
    record = Shadowban.objects.get(target=fingerprint)

    page = client.get(reverse(SHADOWBANS))
    assert page.status_code == 200 and listed(page) == [record]
    assert "lift_shadowbans" not in page.content.decode()
    assert client.get(reverse("admin:security_shadowban_add")).status_code == 403
    client.post(reverse(SHADOWBANS), {"action": "lift_shadowbans", "_selected_action": [record.pk]})
    assert Shadowban.objects.get(pk=record.pk).lifted_at is None
    assert redis_state.ttl("shadowban", "fp", fingerprint) == -1


def test_a_moderator_opens_every_page(every_page, moderator):
    for url in every_page:
        response = moderator.get(url)
        assert response.status_code == 200, url
    report_page = moderator.get(every_page[7]).content.decode()
    assert "Room 0" in report_page and "fp-page" in report_page  # the reported message, linked
