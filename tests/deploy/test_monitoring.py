"""Prometheus and Grafana: promtool accepts the config and rules, the rules behave as
their unit tests say, and every metric the dashboard and the alerts use is one a real
Kirb instance exports (a scripted scenario makes the labelled counters appear)."""

import subprocess

import httpx
import pytest
from django.conf import settings
from prometheus_client.parser import text_string_to_metric_families

from tests.clients import Browser, Socket, new_ip
from tests.deploy.helpers import (
    DEPLOY,
    SYNTHETIC_SERIES,
    TARGET_LABELS,
    dashboard_expressions,
    load_dashboards,
    promql_grouping_labels,
    promql_label_matchers,
    promql_metric_names,
    rule_expressions,
)

PROMETHEUS = DEPLOY / "prometheus"


def run(*command):
    return subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=PROMETHEUS)


def test_promtool_accepts_the_config(promtool):
    result = run(promtool, "check", "config", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_accepts_the_rules(promtool):
    result = run(promtool, "check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_alert_rules_pass_their_unit_tests(promtool):
    result = run(promtool, "test", "rules", "alerts.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def alert_rules(load_yaml):
    return load_yaml(PROMETHEUS / "alerts.yml")


def test_the_alerts_the_issue_asks_for_exist(alert_rules):
    alerts = {rule["alert"] for group in alert_rules["groups"] for rule in group["rules"]}
    assert {
        "KirbInstanceDown", "KirbRedisUnreachable", "KirbHighErrorRate", "KirbHighLatencyP99",
        "KirbBotDetectionSpike", "KirbConnectionsNearLimit",
    } <= alerts


def test_the_connection_alert_is_80_percent_of_the_instance_limit(alert_rules):
    rule = next(r for g in alert_rules["groups"] for r in g["rules"] if r["alert"] == "KirbConnectionsNearLimit")
    threshold = float(rule["expr"].split(">")[-1])
    assert threshold == 0.8 * settings.KIRB_DEFAULTS["WS_MAX_CONNECTIONS"]


def test_grafana_provisioning_points_at_the_compose_prometheus(load_yaml, compose):
    datasources = load_yaml(DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml")["datasources"]
    (source,) = datasources
    assert source["url"] == "http://prometheus:9090" and "prometheus" in compose["services"]
    providers = load_yaml(DEPLOY / "grafana" / "provisioning" / "dashboards" / "kirb.yml")["providers"]
    mounted = {volume.split(":")[1] for volume in compose["services"]["grafana"]["volumes"]}
    assert {provider["options"]["path"] for provider in providers} <= mounted
    for name, dashboard in load_dashboards().items():
        uids = {
            panel["datasource"]["uid"] for panel in dashboard["panels"] if isinstance(panel.get("datasource"), dict)
        }
        assert uids == {source["uid"]}, name


def test_the_dashboard_shows_what_the_issue_asks_for():
    (dashboard,) = load_dashboards().values()
    used = set().union(*(promql_metric_names(expr) for expr in dashboard_expressions(dashboard)))
    assert {
        "active_websocket_connections",  # connections
        "messages_per_second_total",  # message rate
        "contact_reveals_total",  # reveal rate
        "kirb_broadcast_latency_seconds_bucket",  # latency
        "django_http_requests_latency_including_middlewares_seconds_bucket",
        "kirb_security_rejections_total",  # rejections by rule
        "kirb_shadowbans_total", "kirb_ip_blocks_total",  # bans
    } <= used


def test_promql_name_extraction():
    expr = (
        'histogram_quantile(0.99, sum by (instance, le) (rate(x_seconds_bucket{status=~"5.."}[5m]))) > 1e3 '
        "and sum(rate(y_total[$__rate_interval] offset 10m)) > 5 * (sum(rate(z_total[1h])) or vector(0))"
    )
    assert promql_metric_names(expr) == {"x_seconds_bucket", "y_total", "z_total"}
    assert promql_label_matchers(expr) == {("x_seconds_bucket", "status")}
    assert ({"x_seconds_bucket"}, {"instance", "le"}) in promql_grouping_labels(expr)


def scrape(server):
    response = httpx.get(server.url + "/metrics")
    assert response.status_code == 200, response.text
    labels = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels.setdefault(sample.name, set()).update(sample.labels)
    return labels


@pytest.mark.django_db(transaction=True)
def test_every_metric_of_the_dashboard_and_alerts_is_exported(start_server, alert_rules):
    server = start_server()
    socket = Socket(server, "/ws/events", location="Pune")
    poster = Browser(server)
    posted = poster.post_ok("Room near the station, call after 6", phone="9876543219")
    assert socket.recv()["type"] == "message"  # frames sent, broadcast latency
    assert poster.post("Too soon").status_code == 429  # rate limit (post cooldown)
    assert Browser(server).get(f"/api/contact/{posted['id']}").status_code == 200  # a reveal
    assert Browser(server).post("Honeypot", website="x").status_code == 403  # bot detection, shadowban
    assert Browser(server).post("see bit.ly/abc for rooms").status_code == 403  # content filter
    network = new_ip()  # several identities past the burst limit on one network: an IP block
    for _ in range(settings.KIRB["NETWORK_OFFENDERS_TO_BLOCK"]):
        burst = Browser(server, ip=network)
        statuses = [burst.http.post("/api/track-visitor").status_code for _ in range(settings.KIRB["BURST_LIMIT"] + 1)]
        assert statuses[-1] == 429, statuses
    socket.close()
    exported = scrape(server)

    expressions = {f"alert {i}": expr for i, expr in enumerate(rule_expressions(alert_rules))}
    for name, dashboard in load_dashboards().items():
        expressions.update({f"{name} {i}": expr for i, expr in enumerate(dashboard_expressions(dashboard))})
    missing, bad_labels = {}, {}
    for where, expr in expressions.items():
        names = promql_metric_names(expr)
        assert names, f"{where}: no metric in {expr!r}"
        unknown = names - set(exported) - SYNTHETIC_SERIES
        if unknown:
            missing[where] = sorted(unknown)
        for metric, label in promql_label_matchers(expr):
            if metric in exported and label not in exported[metric] | TARGET_LABELS:
                bad_labels.setdefault(where, []).append(f"{metric}{{{label}}}")
        for metrics, labels in promql_grouping_labels(expr):
            for metric in metrics & set(exported):
                unknown_labels = labels - exported[metric] - TARGET_LABELS
                if unknown_labels:
                    bad_labels.setdefault(where, []).append(f"{metric} by {sorted(unknown_labels)}")
    assert not missing, f"metrics not in a real scrape: {missing}"
    assert not bad_labels, f"labels the metrics do not have: {bad_labels}"
