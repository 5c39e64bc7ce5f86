# Two commands do everything on a fresh clone: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
VENDOR := app/static/vendor

.PHONY: run test setup venv vendor translations db seed worker cron bench lint services chromium clean

run: setup db seed  ## the shop on http://127.0.0.1:5000 (SQLite, inline jobs, console SMS/mail)
	APP_ENV=development $(FLASK) run --host 127.0.0.1 --port 5000

test: setup services chromium  ## the whole suite on PostgreSQL + Redis, browser tests in Chromium
	APP_ENV=testing $(BIN)/python -m pytest -n 2 --dist worksteal

setup: venv vendor translations

venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

vendor: $(VENDOR)/.installed
$(VENDOR)/.installed: package.json
	npm install --no-audit --no-fund --loglevel=error
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/bootstrap $(VENDOR)/bootstrap-icons $(VENDOR)/htmx $(VENDOR)/echarts
	cp node_modules/bootstrap/dist/css/bootstrap.min.css node_modules/bootstrap/dist/js/bootstrap.bundle.min.js $(VENDOR)/bootstrap/
	cp -r node_modules/bootstrap-icons/font/bootstrap-icons.min.css node_modules/bootstrap-icons/font/fonts $(VENDOR)/bootstrap-icons/
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx/
	cp node_modules/echarts/dist/echarts.min.js $(VENDOR)/echarts/
	cp node_modules/echarts-geo/map/json/china.json $(VENDOR)/echarts/
	touch $@

translations: venv
	$(BIN)/pybabel compile --statistics -d app/translations

db: venv  ## migrate the embedded SQLite database (or DATABASE_URL)
	mkdir -p instance
	APP_ENV=development $(FLASK) db upgrade

seed: db
	APP_ENV=development $(FLASK) seed-demo

worker: setup  ## an RQ worker with scheduler (needs REDIS_URL)
	$(FLASK) worker

cron: setup  ## periodic jobs (needs REDIS_URL)
	$(FLASK) cron

services: venv  ## check PostgreSQL and Redis answer; create the test database
	$(BIN)/python scripts/check_services.py

chromium:  ## Debian's Chromium and CJK fonts for the browser tests
	bash scripts/ensure_chromium.sh

bench: setup services
	APP_ENV=testing $(BIN)/python -m bench

lint: venv
	$(BIN)/ruff check app tests bench scripts

extract-messages: venv  ## refresh the translation catalogues after changing strings
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o app/translations/messages.pot .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations

clean:
	rm -rf $(VENV) node_modules $(VENDOR)
