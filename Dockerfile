# Kirb: one instance per container (daphne via `manage.py serve`), behind a load balancer.
#
# Build (BuildKit: the default builder since Docker 23; with Docker 20.10's own client
# set DOCKER_BUILDKIT=1):
#   docker build -t kirb:local .
# Behind a package index mirror and/or a TLS-intercepting proxy (docs/DEPLOY.md):
#   docker build -t kirb:local \
#     --build-arg PIP_INDEX_URL=https://pypi.mirror.example/simple \
#     --secret id=ca_bundle,src=/etc/ssl/certs/ca-certificates.crt .
# docker-compose.yml builds it as kirb:${KIRB_IMAGE_TAG:-local}; deploy/ci/docker_ci.py
# builds and exercises it in CI.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# An unprivileged user (a regular one: `--system` would warn about a uid above
# SYS_UID_MAX; `--no-log-init` keeps the lastlog file from growing to the uid's size).
# /data is where the default SQLite database lives (PostgreSQL is the norm): writable
# by the user, and a volume there keeps it (with a read-only root filesystem too).
RUN groupadd --gid 10001 kirb \
 && useradd --uid 10001 --gid kirb --no-log-init --home-dir /app --no-create-home --shell /usr/sbin/nologin kirb \
 && mkdir -p /app /data \
 && chown kirb:kirb /data

WORKDIR /app

# Package index settings for pip, only for this step (not kept in the image's
# environment). Credentials in an index URL would be visible in the image history: give
# those in a pip.conf as the `pip_conf` secret instead.
ARG PIP_INDEX_URL
ARG PIP_EXTRA_INDEX_URL
ARG PIP_TRUSTED_HOST

# requirements.txt is exactly what Kirb runs on (development and test packages are in
# requirements-dev.txt, never installed here). A layer of its own: cached until it changes.
# Optional BuildKit secrets: `ca_bundle`, a PEM bundle pip trusts (a TLS-intercepting
# proxy or a private index), and `pip_conf`, a pip configuration file.
COPY requirements.txt .
RUN --mount=type=secret,id=ca_bundle --mount=type=secret,id=pip_conf \
    set -e; \
    for name in PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_TRUSTED_HOST; do \
        eval "value=\${$name:-}"; [ -n "$value" ] || unset "$name"; \
    done; \
    if [ -s /run/secrets/ca_bundle ]; then export PIP_CERT=/run/secrets/ca_bundle; fi; \
    if [ -s /run/secrets/pip_conf ]; then export PIP_CONFIG_FILE=/run/secrets/pip_conf; fi; \
    pip install -r requirements.txt

COPY . .

# Static files are collected once, into the image (WhiteNoise serves them). Production
# settings refuse to load without a secret, so this step alone gets a throw-away one.
ENV STATIC_ROOT=/app/staticfiles
RUN DEBUG=false SERVER_SECRET=collectstatic-at-build-time-only-not-a-secret \
    python manage.py collectstatic --noinput --verbosity 0

USER kirb

# DATABASE_URL (PostgreSQL) normally comes from the environment and replaces this
# default: SQLite in /data, the one directory the user may write.
ENV HOST=0.0.0.0 \
    PORT=8000 \
    DATABASE_URL=sqlite:////data/db.sqlite3
EXPOSE 8000

HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "/app/deploy/docker/healthcheck.py"]

# Exec form, no shell: SIGTERM from `docker stop` reaches manage.py serve itself, which
# drains (/health 503, sockets closed with 1012) and exits 0 within
# KIRB_DRAIN_DEADLINE_SECONDS (10). Give it longer than that: stop_grace_period /
# terminationGracePeriodSeconds.
STOPSIGNAL SIGTERM
CMD ["python", "manage.py", "serve"]
