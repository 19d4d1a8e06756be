# MoonVPN — the two quick-start commands are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1:8000

.PHONY: run test interop browser fuzz lint format demo bench clean

# scripts/check-deps installs (as root) or names the system packages the build needs.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	@sh scripts/check-deps $(PYTHON)
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

.env:
	@echo "Creating .env for local development (DEBUG on, a random SECRET_KEY)."
	@sed -e "s/^SECRET_KEY=.*/SECRET_KEY=$$(head -c 48 /dev/urandom | base64 | tr -d '/+=\n')/" \
	     -e "s/^DEBUG=.*/DEBUG=true/" .env.example > .env

# Runs MoonVPN on the embedded SQLite database: the admin at http://$(HOST)/admin/ and,
# when TELEGRAM_BOT_TOKEN is set, the bot by long polling.
run: $(VENV)/.installed .env
	$(PY) manage.py migrate --noinput
	$(PY) manage.py runall --addr $(HOST)

# The test suite. DATABASE_URL picks the database (SQLite when unset).
test: $(VENV)/.installed
	$(PY) -m pytest -q $(PYTEST_ARGS)

# Delivered links through real proxy software: sing-box (from requirements-dev.txt) and
# Debian's v2ray (apt-get install v2ray). Not part of `make test`.
interop: $(VENV)/.installed
	$(PY) -m pytest -q -m interop $(PYTEST_ARGS)

# schemathesis against the staff API on gunicorn and a fresh MariaDB database
# (FUZZ_DATABASE_URL; README, "The staff API").
fuzz: $(VENV)/.installed
	$(PY) scripts/api_fuzz.py

# The console in Debian's headless Chromium (apt-get install chromium chromium-driver):
# an operator works the receipt queue, extends an account, switches the language.
# Screenshots: artifacts/screenshots/. Not part of `make test`.
browser: $(VENV)/.installed
	$(PY) -m pytest -q -m browser $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/hadolint Dockerfile

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

demo: $(VENV)/.installed .env
	$(PY) manage.py demo

bench: $(VENV)/.installed
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
