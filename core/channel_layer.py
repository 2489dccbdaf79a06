"""channels_redis' core layer, with a group_send that takes one round trip instead of four.

Every post reaches the hubs (chat.hub) through one group_send. channels_redis makes
it four sequential commands (drop expired members, read the members, drop expired
messages, then a script that queues the message for each member): 0.64 ms where one
round trip takes 0.19 (docs/BENCHMARKS.md, "The way to the first socket"). Here the
members read last time are sent along with the queued messages in one script, which
delivers only if the group still has exactly those members, and otherwise returns the
members it has; the send is then prepared again for them. Hubs join and leave
rarely, so in the steady state a group_send is one round trip. What Redis holds, and
what each member receives, is what channels_redis' own group_send would have written.
"""

import logging
import time

from channels_redis.core import RedisChannelLayer

logger = logging.getLogger(__name__)

# Rounds of "the members changed under us" before handing over to channels_redis' own
# group_send (which reads the members and sends without a check in between).
_MEMBER_ROUNDS = 3

# KEYS[1]: the group. KEYS[2..n+1]: the channel keys of the members the caller expects.
# ARGV[1]: members older than this are dropped (group_expiry); ARGV[2]: the expected
# members, sorted, one per line; ARGV[3]: messages older than this are dropped
# (expiry); ARGV[4]: now; ARGV[5]: the channel keys' expiry in seconds;
# ARGV[6..n+5]: each key's message; ARGV[n+6..2n+5]: each key's capacity.
# Returns the number of channels over capacity, or the group's members (a list) if
# they are not the expected ones, in which case nothing was sent.
_GROUP_SEND = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, ARGV[1])
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
table.sort(members)
if table.concat(members, '\\n') ~= ARGV[2] then
    return members
end
local count = #KEYS - 1
local over_capacity = 0
for i = 1, count do
    local key = KEYS[i + 1]
    redis.call('ZREMRANGEBYSCORE', key, 0, ARGV[3])
    if redis.call('ZCOUNT', key, '-inf', '+inf') < tonumber(ARGV[count + 5 + i]) then
        redis.call('ZADD', key, ARGV[4], ARGV[5 + i])
        redis.call('EXPIRE', key, ARGV[5])
    else
        over_capacity = over_capacity + 1
    end
end
return over_capacity
"""


class KirbChannelLayer(RedisChannelLayer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._members = {}  # group -> its members (sorted channel names) as last read

    async def group_send(self, group, message):
        if self.ring_size != 1:
            # Sharded: a group's members may be queued on other servers than the group.
            return await super().group_send(group, message)
        assert self.require_valid_group_name(group), "Group name not valid"
        members = self._members.get(group, [])
        for _ in range(_MEMBER_ROUNDS):
            result = await self._send_if_members_are(group, members, message)
            if not isinstance(result, list):
                if result:
                    logger.info("%s of %s channels over capacity in group %s", result, len(members), group)
                return
            members = self._members[group] = sorted(member.decode("utf8") for member in result)
        await super().group_send(group, message)

    async def _send_if_members_are(self, group, members, message):
        channel_keys, messages, capacities = self._map_channel_keys_to_connection(members, message)
        keys = channel_keys.get(0, [])  # one server: every key is on connection 0
        now = time.time()
        connection = self.connection(0)
        return await connection.register_script(_GROUP_SEND)(
            keys=[self._group_key(group), *keys],
            args=[
                int(now) - self.group_expiry,
                "\n".join(members),
                int(now) - int(self.expiry),
                now,
                self.expiry,
                *(messages[key] for key in keys),
                *(capacities[key] for key in keys),
            ],
        )
