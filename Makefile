# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := app

.PHONY: run test lint install install-dev translations translations-update db demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed translations
install-dev: $(VENV)/.installed-dev translations

translations: $(VENV)/.installed
	$(BIN)/pybabel compile --use-fuzzy -d translations --statistics 2>&1 | grep -v '^compiling' || true

# After adding or changing user-facing strings: extract them, then translate the new entries in
# translations/zh_Hans_CN/LC_MESSAGES/messages.po (tests/app/test_translations.py fails until you do).
translations-update: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
		--project "Beiyang Events" -o translations/messages.pot app events judging mentoring checkin live notifications insights
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching

db: install
	$(BIN)/flask db upgrade

demo: db
	$(BIN)/flask seed-demo

# The embedded default: SQLite in instance/, tasks in-process, demo data, http://127.0.0.1:5000 (HTTP + Socket.IO).
# APP_ENV=development asks for demo mode explicitly (app/config.py: never by default against another database).
run: demo
	APP_ENV=$${APP_ENV:-development} $(BIN)/python -m app

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# Everything: lint, then the suite. Tests needing PostgreSQL, Redis or Chromium skip with a reason when those
# are absent, except under CI=true (see .ci/run), where their absence fails the run.
test: install-dev lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
