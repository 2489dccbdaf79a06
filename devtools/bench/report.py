"""Plain-text reports of a bench invocation, one per mode, and the JSON dump.

The fan-out report is a table with one column per design and Kirb's ratios to the
other two; the issue-12 goals are printed next to the ratios they are judged on.
"""

import json
from dataclasses import asdict

from devtools.bench.config import (
    FANOUT,
    POSTS_ONLY,
    RAISED_LIMITS,
    SLOW_READERS,
    SOCKETS_ONLY,
)
from devtools.bench.measure import CPU_COUNT, PERCENT

# Issue 12's goals, printed beside the measured figures (never asserted: a benchmark).
GOAL_CPU_VS_BARE = 2.5
GOAL_CPU_VS_TUTORIAL = 0.25


def _number(value, digits=1):
    return "-" if value is None else f"{value:,.{digits}f}"


def _per_process(values, digits=1):
    return " + ".join(_number(value, digits) for value in values)


def _table(results, rows):
    width = max(len(label) for label, _ in rows)
    columns = [max(len(result.design), *(len(str(cell(result))) for _, cell in rows)) for result in results]
    lines = ["  ".join([" " * width, *(result.design.rjust(col) for result, col in zip(results, columns))])]
    for label, cell in rows:
        lines.append("  ".join([label.ljust(width), *(str(cell(result)).rjust(col) for result, col in zip(results, columns))]))
    return lines


def raised_limits_line():
    raised = ", ".join(f"{name}={value}" for name, value in RAISED_LIMITS.items())
    return f"Limits raised on the servers: {raised}; every other security check at its default."


def format_report(config, results):
    formatter = {FANOUT: format_fanout, SOCKETS_ONLY: format_sockets, SLOW_READERS: format_slow, POSTS_ONLY: format_posts}
    return formatter[config.mode](config, results)


def format_fanout(config, results):
    rows = [
        ("socket path", lambda r: r.path),
        ("sockets connected", lambda r: f"{r.connected} / {r.clients} ({_number(r.connect_seconds)} s)"),
        ("posts (failed)", lambda r: f"{r.posts} ({r.post_failures})"),
        ("delivered / expected", lambda r: f"{r.delivered:,} / {r.expected:,}"),
        ("lost", lambda r: f"{r.lost:,}"),
        ("duplicates, server closes", lambda r: f"{r.duplicates}, {r.closed_by_server}"),
        ("latency p50 ms", lambda r: _number(r.latency_ms.get("p50"))),
        ("latency p99 ms", lambda r: _number(r.latency_ms.get("p99"))),
        ("latency max ms", lambda r: _number(r.latency_ms.get("max"))),
        ("first socket p50 ms", lambda r: _number(r.first_frame_p50_ms)),
        ("fan-out spread p50 / max ms", lambda r: f"{_number(r.fanout_spread_ms['p50'])} / {_number(r.fanout_spread_ms['max'])}"),
        ("POST (bare: PUBLISH) p50 ms", lambda r: _number(r.post_response_p50_ms)),
        ("deliveries / s", lambda r: _number(r.deliveries_per_second, 0)),
        ("last frame after window s", lambda r: _number(r.late_seconds)),
        ("server CPU % (per instance)", lambda r: _per_process(r.server_cpu_percent)),
        ("server CPU % total", lambda r: _number(r.server_cpu_total)),
        ("server CPU µs per frame", lambda r: _number(r.server_cpu_us_per_frame, 0)),
        ("idle server CPU % (per instance)", lambda r: _per_process(r.idle_cpu_percent)),
        ("RSS per socket KiB", lambda r: _number(r.rss_per_socket_kib)),
        ("RSS MiB before / with sockets", lambda r: f"{_number(sum(r.rss_before_sockets_mib))} / {_number(sum(r.rss_with_sockets_mib))}"),
        ("peak RSS MiB (per instance)", lambda r: ", ".join(_number(value) for value in r.peak_rss_mib)),
        ("client CPU % (per process)", lambda r: _per_process(r.client_cpu_percent)),
        ("runner (poster) CPU %", lambda r: _number(r.runner_cpu_percent)),
        ("redis CPU % (shared)", lambda r: _number(r.redis_cpu_percent)),
        (f"machine CPU % (of {CPU_COUNT * PERCENT})", lambda r: _number(r.machine_cpu_percent)),
        ("  of which not this bench", lambda r: _number(r.machine_cpu_percent - r.bench_cpu_total)),
    ]
    lines = [
        f"{config.clients:,} sockets over {config.server_count} instances, cities {', '.join(config.cities)} "
        f"(all-cities share {config.all_cities_share:g}), {config.rate:g} posts/s for {config.duration:g} s; "
        "CPU in % of one core over the posting window.",
        raised_limits_line(),
        "",
        *_table(results, rows),
    ]
    lines += ratio_lines({result.design: result for result in results})
    return "\n".join(lines)


def _ratio(numerator, denominator):
    return None if not numerator or not denominator else numerator / denominator


def ratio_lines(by_design):
    """Kirb against each other design measured: in-window CPU, CPU per frame, p99."""
    kirb = by_design.get("kirb")
    if kirb is None or len(by_design) < 2:
        return []
    goals = {"bare": f" (goal <= {GOAL_CPU_VS_BARE:g}x)", "tutorial": f" (goal <= {GOAL_CPU_VS_TUTORIAL:g}x)"}
    lines = [""]
    for design, other in by_design.items():
        if design == "kirb":
            continue
        cpu = _ratio(kirb.server_cpu_total, other.server_cpu_total)
        per_frame = _ratio(kirb.server_cpu_us_per_frame, other.server_cpu_us_per_frame)
        p99 = _ratio(kirb.latency_ms.get("p99"), other.latency_ms.get("p99"))
        lines.append(
            f"kirb / {design}: server CPU {_number(cpu, 2)}x{goals.get(design, '')}, "
            f"CPU per frame {_number(per_frame, 2)}x, p99 latency {_number(p99, 2)}x"
        )
    return lines


def format_sockets(config, results):
    rows = [
        ("sockets connected", lambda r: f"{r.connected:,} / {r.clients:,} ({_number(r.connect_seconds)} s)"),
        ("connect failures", lambda r: sum(r.connect_failures.values())),
        ("server closes", lambda r: r.closed_by_server),
        ("RSS MiB before sockets", lambda r: _number(sum(r.rss_before_sockets_mib))),
        ("RSS MiB with sockets", lambda r: _number(sum(r.rss_with_sockets_mib))),
        ("RSS per socket KiB", lambda r: _number(r.rss_per_socket_kib)),
        ("/health p50 ms", lambda r: _number(r.health_ms.get("p50"), 2)),
        ("/health p99 ms", lambda r: _number(r.health_ms.get("p99"), 2)),
        ("/health max ms", lambda r: _number(r.health_ms.get("max"), 2)),
        ("/health statuses", lambda r: ", ".join(f"{k}: {v}" for k, v in sorted(r.health_statuses.items()))),
        ("server CPU % meanwhile", lambda r: _per_process(r.idle_server_cpu_percent)),
        (f"machine CPU % (of {CPU_COUNT * PERCENT})", lambda r: _number(r.machine_cpu_percent)),
        ("  of which not this bench", lambda r: _number(r.not_bench_cpu_percent)),
    ]
    lines = [
        f"{config.clients:,} idle sockets on {config.server_count} instance(s), then {config.health_requests} "
        "sequential GET /health on one keep-alive connection (the tutorial's /health says 503: its hub "
        "cannot run on the pub/sub layer; the check itself runs all the same).",
        raised_limits_line(),
        "",
        *_table(results, rows),
    ]
    return "\n".join(lines)


def format_slow(config, results):
    lines = [
        f"{config.slow_readers} sockets that stop reading after the handshake (SO_RCVBUF 4 KiB) and "
        f"{config.clients} that read, on {config.server_count} instance(s); {config.rate:g} posts/s of "
        f"~450 characters for {config.duration:g} s, all to {config.cities[0]}.",
        raised_limits_line(),
    ]
    for result in results:
        lines += [
            "",
            f"{result.design}: posts {result.posts} ({result.post_failures} failed); reading sockets got "
            f"{result.readers_delivered:,} / {result.readers_expected:,} frames",
            "slow readers: " + ", ".join(f"{count} {outcome}" for outcome, count in sorted(result.outcomes.items())),
            "closed by the server at (s into the window): "
            + (", ".join(_number(t) for t in result.closed_at_seconds) or "none"),
            f"server RSS before sockets {_number(sum(result.rss_before_sockets_mib))} MiB, at the end "
            f"{_number(sum(result.peak_rss_mib))} MiB",
            "  t (s)   server RSS MiB   slow readers open",
        ]
        lines += [f"  {t:5.1f}   {rss:14.1f}   {still_open:17d}" for t, rss, still_open in result.timeline]
        if result.server_metrics:
            lines.append("/metrics:")
            lines += [f"  {name} {value:g}" for name, value in sorted(result.server_metrics.items())]
    return "\n".join(lines)


def format_posts(config, results):
    rows = [
        ("posts accepted (2xx)", lambda r: f"{r.accepted:,} in {_number(r.window_seconds)} s"),
        ("accepted / s", lambda r: _number(r.accepted_per_second)),
        ("accepted / s per instance", lambda r: _number(r.accepted_per_second_per_instance)),
        ("statuses", lambda r: ", ".join(f"{k}: {v}" for k, v in sorted(r.statuses.items()))),
        ("response p50 ms", lambda r: _number(r.response_ms.get("p50"))),
        ("response p99 ms", lambda r: _number(r.response_ms.get("p99"))),
        ("server CPU % (per instance)", lambda r: _per_process(r.server_cpu_percent)),
        ("server CPU ms per post", lambda r: _number(r.server_cpu_ms_per_post, 2)),
        ("runner (poster) CPU %", lambda r: _number(r.runner_and_machine_cpu_percent[0])),
        (f"machine CPU % (of {CPU_COUNT * PERCENT})", lambda r: _number(r.runner_and_machine_cpu_percent[1])),
        ("  of which not this bench", lambda r: _number(r.not_bench_cpu_percent)),
    ]
    for index, ceiling in enumerate(results[0].ceilings if results else ()):
        rows += [
            (ceiling["name"], lambda r, i=index: ""),
            ("  answered / s", lambda r, i=index: _number(r.ceilings[i]["per_second"])),
            ("  server CPU ms per request", lambda r, i=index: _number(r.ceilings[i]["server_cpu_ms"], 2)),
            ("  response p50 ms", lambda r, i=index: _number(r.ceilings[i]["p50_ms"])),
            ("  statuses", lambda r, i=index: ", ".join(f"{k}: {v}" for k, v in sorted(r.ceilings[i]["statuses"].items()))),
        ]
    lines = [
        f"POST /messages for {config.duration:g} s on {config.server_count} instance(s), {config.concurrency} in "
        "flight, each post on a new connection from its own loopback address with its own fingerprint; then, for "
        "the same time and in the same way, two cheaper requests: the ceilings of the stack the post runs on.",
        raised_limits_line(),
        "",
        *_table(results, rows),
    ]
    for result in results:
        for ceiling in result.ceilings:
            if ceiling["per_second"]:
                lines.append(
                    f"{result.design}: POST /messages answered {result.accepted_per_second / ceiling['per_second']:.2f}x "
                    f"as often as {ceiling['name']}"
                )
    return "\n".join(lines)


def results_as_json(config, results):
    return json.dumps(
        {"config": asdict(config), "results": [asdict(result) for result in results]}, indent=2, default=str
    )
