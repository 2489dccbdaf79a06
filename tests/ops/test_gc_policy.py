"""manage.py serve's collector policy (kirb_project.server.SlowCollectionFreezer): the
survivors of a slow full collection (GC_FREEZE_AFTER_PAUSE_MS) are frozen, so later
full collections skip them, and the thaw (GC_THAW_SECONDS) frees the cyclic garbage
among them. Run in a child process with the server's own reactor: the policy changes
the process-wide collector, which the test process must keep as is."""

import os
import subprocess
import sys

import pytest

from devtools.instances import BASE_DIR

# A cycle that survives a full collection, then becomes garbage: which full collection
# frees it shows which objects it scanned.
SCRIPT = """
import gc, weakref
import django
django.setup()
from twisted.internet import reactor
from kirb_project import server

class Node:
    pass

server._tune_garbage_collector()
survivor = Node()
survivor.self = survivor
gone = weakref.ref(survivor)
gc.collect()
del survivor
gc.collect()
print("after a full collection:", "kept" if gone() is not None else "freed")
reactor.callLater(2.5, reactor.stop)
reactor.run()
print("after the thaw:", "kept" if gone() is not None else "freed")
"""


def run_policy(server_env, thaw_seconds, freeze_after_pause_ms):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kirb_project.settings",  # the server's, not tests.settings
        **server_env,
        "KIRB_GC_THAW_SECONDS": str(thaw_seconds),
        "KIRB_GC_FREEZE_AFTER_PAUSE_MS": str(freeze_after_pause_ms),
    }
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


@pytest.mark.django_db
def test_a_slow_full_collection_freezes_its_survivors_until_the_thaw(server_env):
    # Every collection counts as slow with a threshold of 0 ms.
    assert run_policy(server_env, thaw_seconds=1, freeze_after_pause_ms=0) == [
        "after a full collection: kept",  # frozen by the first collection, not scanned by the second
        "after the thaw: freed",
    ]


@pytest.mark.django_db
def test_a_fast_full_collection_freezes_nothing(server_env):
    assert run_policy(server_env, thaw_seconds=1, freeze_after_pause_ms=60_000) == [
        "after a full collection: freed",
        "after the thaw: freed",
    ]


@pytest.mark.django_db
def test_without_a_thaw_period_nothing_is_frozen(server_env):
    assert run_policy(server_env, thaw_seconds=0, freeze_after_pause_ms=0) == [
        "after a full collection: freed",
        "after the thaw: freed",
    ]
