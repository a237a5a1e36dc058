# insole: two commands on a fresh machine, `make demo` and `make test`.
# Every target sets up .venv/ (the project installed editable) and the Debian
# packages the tests need, then uses them.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SYSTEM_PACKAGES := dbus-daemon chromium chromium-driver poppler-utils gcc gcc-arm-none-eabi

BIDS_VALIDATOR := $(VENV)/node/node_modules/.bin/bids-validator

.PHONY: setup system-deps demo clinic-demo test test-fast lint bench clean validate-events

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[all,test,bench]'
	touch $(STAMP)

# Debian packages for the BLE tests (a private dbus-daemon) and the browser
# tests (headless Chromium). Installed only when missing and when we are root.
system-deps:
	@missing=""; \
	command -v dbus-daemon >/dev/null || missing="$$missing dbus-daemon"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null || missing="$$missing chromium-driver"; \
	command -v pdftotext >/dev/null || missing="$$missing poppler-utils"; \
	command -v cc >/dev/null || missing="$$missing gcc"; \
	command -v arm-none-eabi-gcc >/dev/null || missing="$$missing gcc-arm-none-eabi"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages:$$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	  else \
	    echo "please install:$$missing (sudo apt-get install -y$$missing)"; exit 1; \
	  fi; \
	fi

# The reference BIDS validator (npm) checks our BIDS-motion export in the tests.
# Optional: without npm the test that uses it is skipped and says so.
$(BIDS_VALIDATOR):
	@if command -v npm >/dev/null; then \
	  npm install --silent --no-audit --no-fund --prefix $(VENV)/node bids-validator@1.15.0 || \
	  echo "npm bids-validator could not be installed; its test will be skipped"; \
	else echo "npm not found: the npm bids-validator test will be skipped"; fi

demo: setup system-deps
	$(BIN)/python docs/scripts/demo.py

# The clinic app (insole clinic) on a demo patient, opened in this computer's browser; Ctrl-C stops it.
clinic-demo: setup
	$(BIN)/insole clinic --demo --open --data demo-output/clinic

# Two passes: the bulk in parallel on every core, then the tests that measure
# real-time behaviour (BLE streaming, browser frame rates and load times) alone,
# so that they are not judged while the other pass loads the machine.
TIMED := ble or browser
test: setup system-deps $(BIDS_VALIDATOR)
	INSOLE_BIDS_VALIDATOR=$(abspath $(BIDS_VALIDATOR)) $(BIN)/pytest -q -n auto -m "not ($(TIMED))"
	INSOLE_BIDS_VALIDATOR=$(abspath $(BIDS_VALIDATOR)) $(BIN)/pytest -q -m "$(TIMED)"

test-fast: setup
	$(BIN)/pytest -q -n auto -m "not ble and not browser and not slow"

# Static checks: ruff (rules and ignores in pyproject.toml) and mypy (its [tool.mypy] names the packages).
lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: setup system-deps
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info demo-output .pytest_cache

# Maintenance (docs/scripts/): rebuild the stored reference sets after a change to the analysis core
# (tests/test_report_real.py fails while they are stale), and regenerate docs/findings-validation.md.
# Both read $INSOLE_SHARED_DATA, else ../shared/data beside the repo.
.PHONY: references validate
references: setup
	$(BIN)/python docs/scripts/rebuild_references.py

validate: setup
	$(BIN)/python docs/scripts/validate_findings.py

# heel strikes against the gaitndd laboratory's .ts tables (35 records, 4 groups) -> docs/events-validation.md;
# add ARGS=--loro to refresh the leave-one-record-out table (about 4 more minutes)
validate-events: setup
	$(BIN)/python docs/scripts/validate_events.py $(ARGS)
