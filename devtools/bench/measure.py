"""What the bench and the soak read off processes and lists of timings: CPU, RSS, percentiles.

Kept apart from the runs so that every figure is computed one way, whichever mode or
command reports it. CPU is the psutil cpu_times delta over a window divided by its
wall time, in % of one core; RSS in MiB; latencies in seconds in, milliseconds out.
"""

import asyncio
import re
import time

import psutil

CPU_COUNT = psutil.cpu_count() or 1
BYTES_PER_KIBIBYTE = 1 << 10  # /proc/<pid>/status counts in kB
BYTES_PER_MEBIBYTE = 1 << 20
SECONDS_TO_MS = 1000
SECONDS_TO_US = 1_000_000
PERCENT = 100
MEDIAN = 0.5
LATENCY_PERCENTILES = (MEDIAN, 0.99)


def percentile(sorted_values, fraction):
    """Nearest-rank percentile of an already sorted list; None when empty."""
    if not sorted_values:
        return None
    rank = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[rank]


def ms(seconds):
    return None if seconds is None else seconds * SECONDS_TO_MS


def latency_summary(seconds):
    """``{"p50", "p99", "max"}`` in ms of a list of durations in seconds (None where empty)."""
    ordered = sorted(seconds)
    summary = {f"p{round(fraction * PERCENT)}": ms(percentile(ordered, fraction)) for fraction in LATENCY_PERCENTILES}
    summary["max"] = ms(ordered[-1] if ordered else None)
    return summary


def cpu_seconds(process):
    times = process.cpu_times()
    return times.user + times.system


def machine_busy_seconds():
    """CPU time every process on the machine used (all cores), from /proc/stat via psutil."""
    times = psutil.cpu_times()
    busy = ("user", "nice", "system", "irq", "softirq")  # guest time is already in user
    return sum(getattr(times, name, 0.0) for name in busy)


async def cpu_percent_over(processes, seconds):
    """Each process' CPU over the next ``seconds``, in % of one core."""
    before = [cpu_seconds(process) for process in processes]
    started = time.monotonic()
    await asyncio.sleep(seconds)
    elapsed = time.monotonic() - started
    return [PERCENT * (cpu_seconds(process) - b) / elapsed for process, b in zip(processes, before)]


def redis_cpu_seconds(redis_url):
    """Redis' own CPU (INFO cpu), if it answers: it is shared, so other users add to it."""
    import redis

    try:
        info = redis.Redis.from_url(redis_url).info("cpu")
    except redis.RedisError:
        return None
    return info["used_cpu_user"] + info["used_cpu_sys"]


class CpuWindow:
    """CPU of the servers, the bench's other processes and the whole machine over a ``with`` block."""

    def __init__(self, servers, others):
        self.servers = servers
        self.others = others

    def __enter__(self):
        self.started = time.monotonic()
        self.before = [cpu_seconds(p) for p in self.servers + self.others]
        self.machine_before = machine_busy_seconds()
        return self

    def __exit__(self, *exc):
        self.seconds = time.monotonic() - self.started
        after = [cpu_seconds(p) for p in self.servers + self.others]
        used = [PERCENT * (a - b) / self.seconds for a, b in zip(after, self.before)]
        self.server_percent = used[:len(self.servers)]
        self.bench_percent = sum(used)
        self.machine_percent = PERCENT * (machine_busy_seconds() - self.machine_before) / self.seconds


def rss_mib(process):
    return process.memory_info().rss / BYTES_PER_MEBIBYTE


def peak_rss_bytes(pid):
    """The kernel's high-water mark (VmHWM) of a process; its current RSS where there is none."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * BYTES_PER_KIBIBYTE
    except OSError:
        pass
    return psutil.Process(pid).memory_info().rss


def rss_per_socket_kib(before_mib, after_mib, sockets):
    """What the sockets added to the servers' RSS, per socket."""
    if not sockets:
        return None
    return (sum(after_mib) - sum(before_mib)) * BYTES_PER_MEBIBYTE / BYTES_PER_KIBIBYTE / sockets


# One sample line of a Prometheus text page: name, optional {labels}, value.
_METRIC_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)")


def metric_samples(text):
    """``(name, labels, value)`` for each sample of a Prometheus text page (``/metrics``)."""
    for line in text.splitlines():
        match = _METRIC_LINE.match(line)
        if match:
            yield match.group(1), match.group(2) or "", float(match.group(3))
