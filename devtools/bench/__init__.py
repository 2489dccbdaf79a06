"""Benchmarks of Kirb's live fan-out (``manage.py bench``; results in docs/BENCHMARKS.md).

``devtools.bench.runner`` starts the servers and clients, posts, and measures one design;
``devtools.bench.scenarios`` the idle-socket, slow-reader and POST-throughput modes;
``devtools.bench.report`` prints them. ``devtools.bench.baseline`` is the per-socket (Channels tutorial)
consumer, ``devtools.bench.bare`` the bare ``websockets`` ceiling server, ``devtools.bench.rawhttp`` the
posting and /health client.
"""
