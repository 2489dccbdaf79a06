"""Database work of async code (WebSocket consumers, the hub) on a bounded thread pool.

``channels.db.database_sync_to_async`` runs on asgiref's one shared thread: one replay
waiting on a lock held up every handshake of the process (0 of 5 opened). Here each
call takes a thread of a pool of WS_DB_THREADS, so a slow query delays only itself
until the pool is full; each thread keeps its own connection, closed when stale or
broken as Django does around a request.
"""

import asyncio
import contextvars
import functools
import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import close_old_connections

from core.conf import kirb_setting

_pool = None
_pool_lock = threading.Lock()


def _executor():
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(max_workers=kirb_setting("WS_DB_THREADS"), thread_name_prefix="kirb-db")
    return _pool


def _call(fn, args, kwargs):
    close_old_connections()
    try:
        return fn(*args, **kwargs)
    finally:
        close_old_connections()


async def run(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` on the pool; raises what it raises."""
    context = contextvars.copy_context()
    call = functools.partial(context.run, _call, fn, args, kwargs)
    return await asyncio.get_running_loop().run_in_executor(_executor(), call)
