# Kirb: `make run` serves the app, `make test` runs the suite. Both set everything up.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT

.PHONY: run test install clean cluster

# Runtime (requirements.txt, all the image installs) and development (requirements-dev.txt:
# tests, benchmarks, the embedded Redis): a change to either reinstalls.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

# Development defaults: DEBUG on (so no SERVER_SECRET is needed), SQLite, and a Redis
# started here when none is configured or answering on 127.0.0.1:6379.
run: export DEBUG ?= true
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) -m devtools.embedded_redis $(PY) manage.py serve

# Three instances behind Debian's nginx on http://127.0.0.1:8080, with the nginx config
# docker-compose.yml uses (docs/DEPLOY.md). Ctrl-C drains them and stops everything.
cluster: export DEBUG ?= true
cluster: install
	$(PY) -m devtools.cluster $(CLUSTER_ARGS)

test: install
	$(PY) -m devtools.embedded_redis $(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
