"""The operators' manage.py commands, run in the test process (same database and Redis as
the two server instances) and checked by what the real servers then do."""

import datetime
import io
import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from chat.models import Message
from devtools.embedded_redis import free_port
from devtools.instances import BASE_DIR
from security import blocks, shadowban, store
from security.models import IPBlock, Reason, Report, Shadowban
from tests.clients import Browser, Socket, key_of, new_fingerprint, new_ip, visible_ids

pytestmark = pytest.mark.django_db(transaction=True)




def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip()






def assert_blocked(server, ip):
    response = Browser(server, ip=ip).get("/messages")
    assert response.status_code == 429 and response.json()["error"] == "ip_blocked", response.text
    assert Socket(server, "/ws/events", ip=ip).close_code() == 4429


def security_keys(redis_client):
    """Enforcement keys in Redis, leaving out the sync marker every test starts with."""
    from security.moderation import SYNC_MARKER

    marker = store.key(*SYNC_MARKER).encode()
    return sorted(key for key in redis_client.scan_iter(match=store.key("*")) if key != marker)


# --- IP blocks -------------------------------------------------------------------------


def test_block_ip_and_unblock_ip_on_every_instance(servers, redis_state):
    ip = new_ip()
    assert run("block_ip", ip) == f"Blocked {ip} for 30 minutes, on every instance."
    assert 1790 <= redis_state.ttl("blocked_ip", ip) <= 1800
    assert IPBlock.objects.get(ip=ip).reason == Reason.MODERATOR
    for server in servers:
        assert_blocked(server, ip)

    assert run("unblock_ip", ip) == f"Lifted 1 block of {ip}, on every instance."
    assert not redis_state.exists("blocked_ip", ip)
    for server in servers:
        assert Browser(server, ip=ip).get("/messages").status_code == 200
    assert run("unblock_ip", ip) == f"{ip} has no active block; nothing to lift."


def test_block_ip_for_minutes_or_permanently(servers, redis_state):
    brief, forever = new_ip(), new_ip()
    assert run("block_ip", brief, "--minutes", "5") == f"Blocked {brief} for 5 minutes, on every instance."
    assert 290 <= redis_state.ttl("blocked_ip", brief) <= 300
    assert run("block_ip", forever, "--permanent") == f"Blocked {forever} permanently, on every instance."
    assert redis_state.ttl("blocked_ip", forever) == -1
    assert IPBlock.objects.get(ip=forever).expires_at is None
    assert_blocked(servers[1], forever)


def test_unblock_ip_also_clears_a_redis_block_no_record_backs(servers, redis_client, redis_state):
    ip = new_ip()
    redis_client.set(store.key("blocked_ip", ip), "set by hand")
    assert_blocked(servers[0], ip)
    assert run("unblock_ip", ip) == f"{ip} has no active block; nothing to lift."
    assert Browser(servers[0], ip=ip).get("/messages").status_code == 200


# --- shadowbans ------------------------------------------------------------------------


def test_shadowban_a_composite_key_then_unban_it(servers, redis_state, redis_client):
    a, b = servers
    author = Browser(a)
    key = key_of(author)
    assert run("shadowban", key, "--hours", "2") == f"Shadowbanned composite key {key} for 2 hours, on every instance."
    assert 7190 <= redis_state.ttl("shadowban", key) <= 7200
    hidden = author.post_ok("Posted while shadowbanned")
    assert hidden["id"] in visible_ids(author.on(b))
    assert hidden["id"] not in visible_ids(Browser(b))

    assert run("unban", key) == f"Lifted 1 shadowban of {key}, on every instance."
    assert not redis_state.exists("shadowban", key)
    redis_client.delete(store.key("cooldown", key))  # the post cooldown is another rule
    public = author.post_ok("Posted after the unban")
    assert public["id"] in visible_ids(Browser(b))
    assert run("unban", key) == f"{key} has no active shadowban; nothing to lift."


def test_shadowban_a_fingerprint_permanently_follows_it_to_any_network(servers, redis_state):
    a, b = servers
    fingerprint = new_fingerprint()
    assert run("shadowban", fingerprint, "--fingerprint", "--permanent") == (
        f"Shadowbanned fingerprint {fingerprint} permanently, on every instance."
    )
    assert redis_state.ttl("shadowban", "fp", fingerprint) == -1
    moved = Browser(b, fingerprint=fingerprint)  # a new IP: a new composite key, same browser
    hidden = moved.post_ok("Posted from another network")
    assert hidden["id"] not in visible_ids(Browser(a))

    assert run("unban", fingerprint) == f"Lifted 1 shadowban of {fingerprint}, on every instance."
    assert not redis_state.exists("shadowban", "fp", fingerprint)


def test_shadowban_defaults_to_24_hours(redis_state):
    key = "ab" * 32
    assert run("shadowban", key) == f"Shadowbanned composite key {key} for 24 hours, on every instance."
    assert 86390 <= redis_state.ttl("shadowban", key) <= 86400


@pytest.mark.parametrize(
    "args, error",
    [
        (["block_ip", "300.1.2.3"], "'300.1.2.3' is not an IP address"),
        (["block_ip", "127.0.0.1"], "127.0.0.1 is a trusted proxy (TRUSTED_PROXIES)"),
        (["block_ip", "198.18.7.7", "--minutes", "0"], "argument --minutes: invalid positive_number value: '0'"),
        (["block_ip", "198.18.7.7", "--minutes", "5", "--permanent"], "not allowed with argument --minutes"),
        (["unblock_ip", "localhost"], "'localhost' is not an IP address"),
        (["shadowban", "abc123"], "64 hexadecimal characters. To shadowban a browser fingerprint, add --fingerprint."),
        (["shadowban", "g" * 64], "is not a composite key"),
        (["shadowban", "unknown", "--fingerprint"], "that sends no fingerprint"),
        (["shadowban", "two words", "--fingerprint"], "is not a fingerprint Kirb accepts"),
        (["shadowban", "ab" * 32, "--hours", "-1"], "argument --hours: invalid positive_number value: '-1'"),
        (["unban", "no spaces allowed"], "is not a fingerprint Kirb accepts"),
        (["purge_messages", "--hours", "zero"], "argument --hours: invalid positive_number value: 'zero'"),
    ],
)
def test_bad_arguments_are_refused_with_a_sentence_and_change_nothing(redis_client, args, error):
    with pytest.raises(CommandError) as refused:
        run(*args)
    assert error in str(refused.value)
    assert not Shadowban.objects.exists() and not IPBlock.objects.exists()
    assert security_keys(redis_client) == []


# --- retention -------------------------------------------------------------------------


def message(text, hours_ago):
    return Message.objects.create(
        message=text,
        message_type="offered",
        location="Pune",
        city_key="pune",
        public_id="pub-old",
        poster_fingerprint="fp-old",
        poster_key="k" * 64,
        poster_ip="198.18.5.5",
        created_at=timezone.now() - datetime.timedelta(hours=hours_ago),
    )


def test_purge_deletes_messages_past_retention_and_keeps_reports(servers):
    old, older, recent = message("Old", 49), message("Older", 100), message("Recent", 47)
    report = Report.objects.create(
        message=old, message_uuid=old.id, reported_fingerprint="fp-old", poster_ip="198.18.5.5", reporter_key="r" * 64
    )
    ids = {str(m.id) for m in (old, older, recent)}
    assert ids <= set(visible_ids(Browser(servers[0]), limit=100))  # a page: not cut at retention

    assert run("purge_messages", "--dry-run").startswith("Would delete 2 messages older than 48 hours (before ")
    assert Message.objects.count() == 3

    assert run("purge_messages").startswith("Deleted 2 messages older than 48 hours")
    assert list(Message.objects.values_list("id", flat=True)) == [recent.id]
    report.refresh_from_db()
    assert report.message is None and report.message_uuid == old.id  # the record stays
    assert set(visible_ids(Browser(servers[1]), limit=100)) & ids == {str(recent.id)}

    assert run("purge_messages", "--hours", "1").startswith("Deleted 1 message older than 1 hour ")
    assert not Message.objects.exists() and Report.objects.count() == 1


def test_purge_deletes_statistics_and_bot_detections_past_their_retention(settings):
    from chat.models import CityView, CityVisit
    from security.models import BotDetection

    settings.KIRB = {**settings.KIRB, "STATS_RETENTION_DAYS": 30, "BOT_DETECTION_RETENTION_DAYS": 90}
    today = timezone.now().date()
    for n, days_ago in enumerate((31, 400, 30, 0)):  # the first two are past 30 days
        day = today - datetime.timedelta(days=days_ago)
        CityVisit.objects.create(day=day, visitor_key=f"v{n}", city="Pune")
        CityView.objects.create(day=day, city_key="pune", city="Pune", viewer_key=f"v{n}")
    for n, days_ago in enumerate((91, 365, 89, 0)):
        BotDetection.objects.create(
            rule="headless", composite_key=f"k{n}", ip="198.18.5.5",
            created_at=timezone.now() - datetime.timedelta(days=days_ago),
        )
    kept_days = {today - datetime.timedelta(days=30), today}
    kept_bots = set(BotDetection.objects.filter(composite_key__in=["k2", "k3"]).values_list("id", flat=True))

    output = run("purge_messages", "--dry-run")
    assert "Would delete 4 visit/view statistics rows" in output and "Would delete 2 bot detections" in output
    assert CityVisit.objects.count() == CityView.objects.count() == BotDetection.objects.count() == 4

    output = run("purge_messages")
    assert "Deleted 4 visit/view statistics rows" in output and "Deleted 2 bot detections" in output
    assert set(CityVisit.objects.values_list("day", flat=True)) == kept_days
    assert set(CityView.objects.values_list("day", flat=True)) == kept_days
    assert set(BotDetection.objects.values_list("id", flat=True)) == kept_bots

    settings.KIRB = {**settings.KIRB, "STATS_RETENTION_DAYS": 1, "BOT_DETECTION_RETENTION_DAYS": 1}
    output = run("purge_messages")
    assert "Deleted 2 visit/view statistics rows" in output and "Deleted 1 bot detection " in output
    assert set(CityVisit.objects.values_list("day", flat=True)) == {today}
    assert BotDetection.objects.count() == 1


# --- enforcement state -----------------------------------------------------------------


def test_sync_bans_rebuilds_what_redis_lost_from_the_records(servers, redis_client, redis_state):
    banned_key, banned_fingerprint, blocked = "cd" * 32, new_fingerprint(), new_ip()
    shadowban.shadowban(Shadowban.Target.KEY, banned_key, reason=Reason.BURST_PROFILER, seconds=3600)
    shadowban.shadowban_fingerprint(banned_fingerprint, reason=Reason.REPORTS)
    blocks.block_ip(blocked, reason=Reason.BURST_LIMIT, seconds=1800)
    now = timezone.now()
    Shadowban.objects.create(
        target_type="key", target="ef" * 32, reason=Reason.HONEYPOT, expires_at=now - datetime.timedelta(minutes=1)
    )
    IPBlock.objects.create(ip=new_ip(), reason=Reason.MODERATOR, lifted_at=now)

    for key in security_keys(redis_client):  # Redis restarted without its data
        redis_client.delete(key)
    assert Browser(servers[0], ip=blocked).get("/messages").status_code == 200

    assert run("sync_bans") == "Enforcement state rebuilt from the database: 2 shadowbanned targets, 1 blocked IP."
    assert 3590 <= redis_state.ttl("shadowban", banned_key) <= 3600
    assert redis_state.ttl("shadowban", "fp", banned_fingerprint) == -1
    assert 1790 <= redis_state.ttl("blocked_ip", blocked) <= 1800
    assert not redis_state.exists("shadowban", "ef" * 32)  # expired and lifted records stay out
    assert len(security_keys(redis_client)) == 3
    assert redis_state.exists("state", "synced")
    assert_blocked(servers[1], blocked)


def status_lines(output):
    return {line[:15].strip(): line[15:] for line in output.splitlines() if line[:15].strip()}


def test_kirb_status_reports_dependencies_and_counts(servers, redis_client):
    message("Today", 1)
    deleted = message("Also today", 23)
    Message.objects.filter(id=deleted.id).update(is_deleted=True)
    message("Two days ago", 49)
    shadowban.shadowban(Shadowban.Target.KEY, "ab" * 32, reason=Reason.HONEYPOT)
    shadowban.shadowban(Shadowban.Target.KEY, "ab" * 32, reason=Reason.MODERATOR, seconds=60)  # same target
    blocks.block_ip(new_ip(), reason=Reason.MODERATOR, seconds=600)

    redis_client.delete(store.key("state", "synced"))  # as after Redis lost its data
    lines = status_lines(run("kirb_status"))
    for name in ("Redis", "Database", "Channel layer"):
        assert lines[name].startswith("ok "), lines
    assert lines["Migrations"] == "all applied"
    assert lines["Shadowbans"] == "2 active in the database (1 targets), 1 enforced in Redis"
    assert lines["IP blocks"] == "1 active in the database (1 targets), 1 enforced in Redis"
    assert lines["Messages"] == "2 in the last 24 h (1 public, 1 deleted)"
    assert "no sync marker" in run("kirb_status")

    run("sync_bans")
    redis_client.delete(store.key("shadowban", "ab" * 32))
    output = run("kirb_status")
    assert "no sync marker" not in output
    assert status_lines(output)["Shadowbans"].endswith("0 enforced in Redis  <- differs: run `manage.py sync_bans`")


def test_kirb_status_exits_non_zero_when_redis_is_down(server_env):
    def kirb_status(**env):
        return subprocess.run(
            [sys.executable, "manage.py", "kirb_status", "--timeout", "3"],
            cwd=BASE_DIR,
            env={**os.environ, **server_env, "DJANGO_SETTINGS_MODULE": "kirb_project.settings", **env},
            capture_output=True,
            text=True,
            timeout=60,
        )

    healthy = kirb_status()
    assert healthy.returncode == 0, healthy.stderr
    assert status_lines(healthy.stdout)["Redis"].startswith("ok ")

    closed = f"redis://127.0.0.1:{free_port()}/0"
    down = kirb_status(REDIS_URL=closed)
    assert down.returncode == 1, down.stdout
    assert "CommandError: Redis is down (" in down.stderr and "start Redis or fix REDIS_URL" in down.stderr
    assert "Traceback" not in down.stderr
    lines = status_lines(down.stdout)
    assert lines["Redis"].startswith(f"DOWN     {closed}: ")
    assert lines["Channel layer"].startswith("DOWN ")
    assert lines["Database"].startswith("ok ")
    assert lines["Shadowbans"].endswith("Redis unknown")
