"""Benchmarks of Kirb's live fan-out (``manage.py bench``; results in docs/BENCHMARKS.md)
and the soak (``manage.py soak``; docs/OPERATIONS.md).

One module per responsibility: ``config`` what is run (designs, modes, limits, the socket
plan); ``workspace`` what a run stands on (temp dir, Redis DB and prefix, migrations,
clean-up); ``clients`` the load-generating client processes and the runner's handles on
them; ``measure`` CPU, RSS and percentiles; ``runner`` one design's run and the whole
invocation; ``scenarios`` the idle-socket, slow-reader and POST-throughput modes;
``report`` the output; ``cli`` what the two commands share. ``baseline`` is the per-socket
(Channels tutorial) consumer, ``bare`` the bare ``websockets`` ceiling server, ``rawhttp``
the posting and /health client, ``soak`` the soak.
"""
