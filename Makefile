# Taskyard: `make run` brings the platform up, `make test` runs the suite. Both set themselves up from
# the hashed lock files (requirements.txt for the platform, requirements-dev.txt adds the tools);
# `make lock` refreshes both from pyproject.toml.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check --quiet
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
COMPILE := $(VENV)/bin/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--no-header --custom-compile-command "make lock"

.PHONY: run test test-fast lint bench lock docs clean system-deps

$(PY):
	$(PYTHON) -m venv $(VENV)

# Exactly the locked versions (--require-hashes, --no-deps: nothing outside the lock), then the
# project itself as an editable install.
$(RUN_STAMP): requirements.txt pyproject.toml | $(PY)
	$(PIP) install --require-hashes --no-deps -r requirements.txt
	$(PIP) install --no-deps -e .
	@touch $@

$(DEV_STAMP): requirements-dev.txt $(RUN_STAMP)
	$(PIP) install --require-hashes --no-deps -r requirements-dev.txt
	@touch $@

run: $(RUN_STAMP)
	$(PY) -m jobs.local.launcher

test: lint system-deps
	$(PY) -m pytest -q -p no:cacheprovider --durations=15

test-fast: $(DEV_STAMP)
	$(PY) -m pytest -q -p no:cacheprovider -m "not slow"

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench: $(DEV_STAMP)
	$(PY) -m bench

lock: $(DEV_STAMP)
	$(COMPILE) -o requirements.txt pyproject.toml
	$(COMPILE) --extra dev -o requirements-dev.txt pyproject.toml

docs: $(DEV_STAMP)
	$(PY) -m jobs.settings_doc docs/configuration.md

system-deps:
	@bash scripts/system-deps.sh

clean:
	rm -rf $(VENV) .run .pytest_cache .mypy_cache .ruff_cache *.egg-info
