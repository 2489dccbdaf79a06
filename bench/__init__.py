"""Benchmarks of Kirb's live fan-out (``manage.py bench``; results in docs/BENCHMARKS.md).

``bench.runner`` starts the servers and clients, posts, and measures one design;
``bench.scenarios`` the idle-socket, slow-reader and POST-throughput modes;
``bench.report`` prints them. ``bench.baseline`` is the per-socket (Channels tutorial)
consumer, ``bench.bare`` the bare ``websockets`` ceiling server, ``bench.rawhttp`` the
posting and /health client.
"""
