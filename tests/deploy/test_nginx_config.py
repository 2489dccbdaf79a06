"""The shipped nginx configuration: `nginx -t`, and the same file in compose and `make cluster`."""

import re

from devtools.cluster import NGINX_CONF, check_nginx_config, render_nginx_config
from tests.deploy.helpers import BASE_DIR, DEPLOY


def directives(path):
    """``[(name, arguments)]`` of an nginx file, comments removed (flat; enough here)."""
    text = re.sub(r"#[^\n]*", "", path.read_text())
    return [
        (parts[0], " ".join(parts[1:]))
        for statement in re.split(r"[;{}]", text)
        if (parts := statement.split())
    ]


def test_nginx_accepts_the_shipped_config(nginx, tmp_path):
    conf = render_nginx_config(
        tmp_path, ["127.0.0.1:18001", "127.0.0.1:18002", "127.0.0.1:18003"], "127.0.0.1:18080",
    )
    assert f"include {NGINX_CONF.resolve()};" in conf.read_text()
    ok, output = check_nginx_config(conf)
    assert ok, output


def test_nginx_accepts_the_cloudflare_variant(nginx, tmp_path):
    conf = render_nginx_config(
        tmp_path, ["127.0.0.1:18001"], "127.0.0.1:18080",
        extra_includes=[DEPLOY / "nginx" / "cloudflare-realip.conf"],
    )
    ok, output = check_nginx_config(conf)
    assert ok, output


def test_client_address_headers_are_replaced_not_passed_through():
    headers = {
        args.split()[0].lower(): args.split(maxsplit=1)[1]
        for name, args in directives(NGINX_CONF) if name == "proxy_set_header"
    }
    assert headers["x-forwarded-for"] == "$remote_addr"  # replaced, never appended to the client's
    assert headers["host"] == "$http_host"  # with its port: Django's CSRF origin check
    assert headers["x-forwarded-proto"] == "$scheme"
    # Headers Kirb believes from a trusted proxy: a client must not be able to send them.
    assert headers["cf-connecting-ip"] == '""'
    assert headers["x-ja3-hash"] == '""'
    assert headers["upgrade"] == "$http_upgrade"
    assert headers["connection"] == "$kirb_connection"
    names = dict(directives(NGINX_CONF))
    assert names["proxy_http_version"] == "1.1"
    assert set(names["proxy_next_upstream"].split()) >= {"error", "timeout", "http_503"}
    assert "non_idempotent" not in names["proxy_next_upstream"]  # a sent POST is never replayed


def test_the_kirb_tls_fingerprint_header_is_the_one_nginx_clears():
    from django.conf import settings

    header = settings.KIRB["TLS_FINGERPRINT_HEADER"].lower()
    cleared = {
        args.split()[0].lower() for name, args in directives(NGINX_CONF)
        if name == "proxy_set_header" and args.split()[1] == '""'
    }
    assert header in cleared


def test_compose_upstreams_are_the_kirb_services_on_their_port(compose):
    upstream = directives(DEPLOY / "nginx" / "compose" / "upstream.conf")
    servers = [args.split()[0] for name, args in upstream if name == "server"]
    instances = {
        name: service for name, service in compose["services"].items()
        if service.get("command") is None and str(service.get("image", "")).startswith("kirb:")
    }
    assert sorted(servers) == sorted(f"{name}:{service['environment']['PORT']}" for name, service in instances.items())
    for name, args in upstream:
        if name == "server":
            assert "max_fails=" in args and "fail_timeout=" in args  # passive health checks


def test_compose_and_cluster_use_the_same_kirb_conf(compose, tmp_path):
    mounts = compose["services"]["nginx"]["volumes"]
    assert "./deploy/nginx/kirb.conf:/etc/nginx/conf.d/default.conf:ro" in mounts
    assert "./deploy/nginx/compose:/etc/nginx/kirb.d:ro" in mounts
    # kirb.conf includes kirb.d/... relative to nginx.conf's directory (/etc/nginx).
    includes = [args for name, args in directives(NGINX_CONF) if name == "include"]
    assert sorted(includes) == ["kirb.d/listen.conf", "kirb.d/upstream.conf"]
    for include in includes:
        assert (DEPLOY / "nginx" / "compose" / include.split("/", 1)[1]).is_file()
    assert NGINX_CONF == BASE_DIR / "deploy" / "nginx" / "kirb.conf"
