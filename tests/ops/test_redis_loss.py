"""Redis keeps nothing on disk: after it loses everything, a restarting instance
rebuilds the bans and blocks that are still in force from the database."""

import datetime

import pytest
import redis
from django.utils import timezone

from devtools.embedded_redis import EmbeddedRedis
from security import enforcement
from security.models import IPBlock, Reason, Shadowban
from tests.clients import Browser, new_fingerprint, new_ip

pytestmark = pytest.mark.django_db(transaction=True)


def test_flushed_redis_gets_permanent_and_unexpired_enforcement_back_on_restart(start_server):
    own_redis = EmbeddedRedis()
    try:
        client = redis.Redis.from_url(own_redis.url)
        now = timezone.now()
        banned_fp, blocked_ip, expired_ip = new_fingerprint(), new_ip(), new_ip()
        Shadowban.objects.create(target_type="fingerprint", target=banned_fp, reason=Reason.REPORTS)
        block = IPBlock.objects.create(ip=blocked_ip, reason=Reason.MODERATOR, expires_at=now + datetime.timedelta(minutes=20))
        IPBlock.objects.create(ip=expired_ip, reason=Reason.BURST_LIMIT, expires_at=now - datetime.timedelta(minutes=1))
        lifted = Shadowban.objects.create(target_type="key", target="a" * 64, reason=Reason.HONEYPOT, lifted_at=now)

        first = start_server(REDIS_URL=own_redis.url)
        assert client.exists(enforcement.block_key(blocked_ip))  # restored on its first start too
        first.stop()
        client.flushall()

        server = start_server(REDIS_URL=own_redis.url)
        assert client.ttl(enforcement.shadowban_key("fingerprint", banned_fp)) == -1  # permanent
        seconds_left = (block.expires_at - timezone.now()).total_seconds()
        assert seconds_left - 5 <= client.ttl(enforcement.block_key(blocked_ip)) <= seconds_left + 1
        assert not client.exists(enforcement.block_key(expired_ip))
        assert not client.exists(enforcement.redis_key(lifted))

        assert Browser(server, ip=blocked_ip).get("/messages").status_code == 429
        assert Browser(server, ip=expired_ip).get("/messages").status_code == 200
        hidden = Browser(server, fingerprint=banned_fp).post_ok("Posted by a banned browser")
        assert hidden["id"] not in [m["id"] for m in Browser(server).get("/messages").json()]
        client.close()
    finally:
        own_redis.stop()
