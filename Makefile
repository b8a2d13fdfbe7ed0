# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck unit oidc-provider bench bench-api bench-page load clean

# The test extras include WeasyPrint (the PDF of a submission's print view); it needs Pango.
# On Debian/Ubuntu (README, "Quick start"; .ci/run installs them when missing):
#   sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Database created or upgraded and forms/ + workflows/ loaded; a first administrator (its
# password printed once); then the server with a supervised worker and an embedded Redis.
run: $(STAMP)
	$(BIN)/formflow init
	$(BIN)/formflow users ensure-admin
	$(BIN)/formflow run

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

# Independent tests in parallel in pytest-xdist workers (TEST_WORKERS=0: one process). More
# workers than cores: many tests mostly wait (for worker processes, RQ's heartbeat expiry,
# the browser). The browser tests of a module stay on one worker (server and staff per module).
TEST_WORKERS ?= 4
unit: $(STAMP) oidc-provider
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup --durations=25

# The real OpenID provider of the single sign-on tests (tests/oidc: the npm package
# oidc-provider, from the committed lockfile), run with Node 20 or later. Without Node the
# tests are skipped, except with CI=true, where that is an error.
OIDC_DIR := tests/oidc
OIDC_STAMP := $(OIDC_DIR)/node_modules/.installed
oidc-provider:
	@if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory $(OIDC_STAMP); \
	elif [ "$$CI" = "true" ]; then \
	  echo "Node.js 20+ and npm are needed for the single sign-on tests (tests/oidc)" >&2; \
	  exit 1; \
	else \
	  echo "no Node.js: the single sign-on tests will be skipped" >&2; \
	fi

$(OIDC_STAMP): $(OIDC_DIR)/package.json $(OIDC_DIR)/package-lock.json
	cd $(OIDC_DIR) && npm ci --no-audit --no-fund
	touch $(OIDC_STAMP)

test: lint typecheck unit

# The benchmarks (docs/performance.md): rules alone; submissions through the JSON API against
# a hand-written baseline (SQLite and PostgreSQL); the step page against a hand-written page.
bench: $(STAMP)
	$(BIN)/python bench/rules.py

bench-api: $(STAMP)
	$(BIN)/python bench/api_submit.py

bench-page: $(STAMP)
	$(BIN)/python bench/render.py

# 60 s of submissions from 64 connections on SQLite, then PostgreSQL: no 5xx, and as many rows
# stored as 2xx answers (docs/performance.md). Not run by `make test`.
load: $(STAMP)
	$(BIN)/python bench/load.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache $(OIDC_DIR)/node_modules
