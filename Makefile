# socialdesk: the front door. Every target sets itself up first (a venv in .venv).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SRC_ROOTS := schemas services ingest classifier assigner sla-monitor notifier
PYTEST_ARGS ?=
BENCH_ARGS ?=

.PHONY: setup run test browser test-unit lint fmt bench bench-e2e faults audit classify eval schemas clean

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "socialdesk needs Python 3.11 or newer")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@# Our packages live in their service folders; a .pth puts each folder on the path.
	@site=$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])'); \
	  for d in $(SRC_ROOTS); do echo "$(CURDIR)/$$d"; done > $$site/socialdesk.pth
	@# The operator's command line (`socialdesk config check`, replay, republish, ...).
	@printf '#!/bin/sh\nexec "%s" -m socialdesk_cli "$$@"\n' "$(CURDIR)/$(PY)" > $(VENV)/bin/socialdesk
	@chmod +x $(VENV)/bin/socialdesk
	@touch $(STAMP)

run: $(STAMP)
	$(PY) -m socialdesk_runtime.stack run --config deploy/config/socialdesk.example.yaml --demo

# The desk's browser tests drive Debian's chromium (never a browser of Playwright's own).
# As root with apt (CI, a fresh machine) it is installed; otherwise those tests say why they skip.
CHROMIUM ?= /usr/bin/chromium
browser:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's chromium for the desk's browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "no $(CHROMIUM) (apt-get install chromium): the browser tests will be skipped"; fi; }

# pytest exits 5 when it collected no test: that is a failure here, never a pass.
test: $(STAMP) browser
	$(PY) -m pytest --durations=15 $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

test-unit: $(STAMP)
	$(PY) -m pytest -m "not integration and not e2e" $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

fmt: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

schemas: $(STAMP)
	$(PY) -m socialdesk_schemas.export

# The whole fault suite on the real embedded stack (tens of minutes; make test runs a subset).
faults: $(STAMP)
	SOCIALDESK_FAULTS=full $(PY) -m pytest tests/faults -m faults -s --timeout=3600 $(PYTEST_ARGS)
	INGEST_FUZZ_EXAMPLES=100000 SOCIALDESK_FUZZ_EXAMPLES=400 $(PY) -m pytest -s --timeout=3600 \
		tests/integration/test_ingest_webhook_fuzz.py tests/integration/test_http_fuzz.py
	SOCIALDESK_FAULTS=full $(PY) -m pytest -s --timeout=3600 tests/e2e/test_freshdesk.py -k burst

# Known vulnerabilities in the pinned dependencies (needs the PyPI JSON API or OSV).
audit: $(STAMP)
	$(VENV)/bin/pip-audit -r requirements.lock --no-deps --disable-pip --strict --progress-spinner off

bench: $(STAMP)
	$(PY) -m tests.bench $(BENCH_ARGS)

# Only the end-to-end section, with CPU ms per message per process and each process's idle
# share of a core (BENCH_ARGS="--messages 2000 --seconds 10 --profile DIR").
bench-e2e: $(STAMP)
	$(PY) -m tests.bench.e2e $(BENCH_ARGS)

classify: $(STAMP)
	@test -n "$(IN)" -a -n "$(OUT)" || { echo "usage: make classify IN=posts.jsonl OUT=labels.jsonl"; exit 2; }
	$(PY) -m socialdesk_classifier.cli classify "$(IN)" "$(OUT)"

eval: $(STAMP)
	$(PY) -m socialdesk_classifier.cli eval

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
