"""Benchmarks of Kirb's live fan-out (``manage.py bench``; results in docs/BENCHMARKS.md).

``bench.baseline`` is the per-socket consumer Kirb's hub is compared against;
``bench.runner`` starts the servers and clients, posts, and measures.
"""
