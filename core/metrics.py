"""Every Kirb metric, in one place.

The first three names are fixed: existing dashboards query them. Labels are bounded
(never a city, fingerprint or IP).
"""

from prometheus_client import Counter, Gauge, Histogram

active_websocket_connections = Gauge(
    "active_websocket_connections", "Open WebSocket connections on this instance."
)
# A counter despite its name: dashboards take rate() of it.
messages_per_second = Counter(
    "messages_per_second", "Messages broadcast (rate() gives messages per second)."
)
contact_reveals_total = Counter("contact_reveals_total", "Phone numbers revealed.")

broadcast_latency_seconds = Histogram(
    "kirb_broadcast_latency_seconds",
    "From a message's commit to its frame being written to the last local socket of a stream (one observation per message and stream).",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
websocket_frames_sent_total = Counter(
    "kirb_websocket_frames_sent_total", "Frames written to WebSocket clients.", ["stream"]
)
websocket_frames_dropped_total = Counter(
    "kirb_websocket_frames_dropped_total",
    "Frames not delivered because a socket's outbox was full (slow consumer).",
    ["stream"],
)
websocket_slow_consumers_closed_total = Counter(
    "kirb_websocket_slow_consumers_closed_total",
    "Sockets closed with 4408 for falling behind: over WS_MAX_UNSENT_BYTES unsent (manage.py "
    "serve), or over WS_OUTBOX_MAX_FRAMES queued (other servers), by bound.",
    ["bound"],
)
for _bound in ("unsent_bytes", "outbox_frames"):
    websocket_slow_consumers_closed_total.labels(bound=_bound)
websocket_frames_rejected_total = Counter(
    "kirb_websocket_frames_rejected_total",
    "Incoming WebSocket frames refused (malformed, binary, oversized, over the rate).",
    ["reason"],
)
transport_rejections_total = Counter(
    "kirb_transport_rejections_total",
    "Connections and requests refused by the server's transport limits (manage.py serve), by limit.",
    ["limit"],
)
broadcast_publish_failures_total = Counter(
    "kirb_broadcast_publish_failures_total",
    "Events that could not be handed to the channel layer (clients catch up with since=).",
)

# --- Abuse defence -----------------------------------------------------------------

security_rejections_total = Counter(
    "kirb_security_rejections_total", "Requests refused by the abuse defence, by rule.", ["rule"]
)
rate_limit_rejections_total = Counter(
    "kirb_rate_limit_rejections_total", "Requests refused by a rate limit, by limit type.", ["type"]
)
bot_detections_total = Counter(
    "kirb_bot_detections_total", "Clients detected as automated, by detection rule.", ["rule"]
)
shadowbans_total = Counter("kirb_shadowbans_total", "Shadowbans imposed, by reason.", ["reason"])
ip_blocks_total = Counter("kirb_ip_blocks_total", "IP blocks imposed, by reason.", ["reason"])
content_filter_violations_total = Counter(
    "kirb_content_filter_violations_total", "Posts refused by the content filter, by rule.", ["rule"]
)
posts_held_total = Counter(
    "kirb_posts_held_total", "Posts held for a moderator's review by the content filter, by reason.", ["reason"]
)

# --- Dependencies and the stream (issue 11) ------------------------------------------

dependency_failures_total = Counter(
    "kirb_dependency_failures_total",
    "Operations that failed because a dependency was unavailable.",
    ["dependency"],
)
dependency_outages_total = Counter(
    "kirb_dependency_outages_total",
    "Outages of a dependency seen by this instance (one per outage, however many failures).",
    ["dependency"],
)
stream_recoveries_total = Counter(
    "kirb_stream_recoveries_total",
    "Times the hub found Redis had lost its state and rebuilt it, by what was lost.",
    ["lost"],
)
# Exported at 0 from the start, so that an alert on its increase sees the first one.
for _lost in ("membership", "enforcement"):
    stream_recoveries_total.labels(lost=_lost)
review_queue_posts = Gauge(
    "kirb_review_queue_posts",
    "Held posts awaiting a moderator's decision (the database's review queue, read at each scrape).",
)
review_queue_oldest_age_seconds = Gauge(
    "kirb_review_queue_oldest_age_seconds",
    "How long the oldest held post has awaited a decision; 0 when none does (read at each scrape).",
)
stream_recovering = Gauge(
    "kirb_stream_recovering",
    "1 while this instance knows it cannot deliver live events (re-joining the channel layer).",
)
stream_events_filled_total = Counter(
    "kirb_stream_events_filled_total",
    "Events the hub read from the event log because the channel layer did not bring them in time.",
)
stream_replayed_events_total = Counter(
    "kirb_stream_replayed_events_total", "Events replayed to /ws/events clients resuming with since=."
)
ghost_sockets_swept_total = Counter(
    "kirb_ghost_sockets_swept_total",
    "Sockets removed from the hub by the periodic sweep (their application ended without a disconnect).",
)
