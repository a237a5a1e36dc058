# insole: two commands on a fresh machine, `make demo` and `make test`.
# Every target sets up .venv/ (the project installed editable) and the Debian
# packages the tests need, then uses them.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SYSTEM_PACKAGES := dbus-daemon chromium chromium-driver

.PHONY: setup system-deps demo test test-fast bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

# Debian packages for the BLE tests (a private dbus-daemon) and the browser
# tests (headless Chromium). Installed only when missing and when we are root.
system-deps:
	@missing=""; \
	command -v dbus-daemon >/dev/null || missing="$$missing dbus-daemon"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null || missing="$$missing chromium-driver"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages:$$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	  else \
	    echo "please install:$$missing (sudo apt-get install -y$$missing)"; exit 1; \
	  fi; \
	fi

demo: setup system-deps
	$(BIN)/python -m insole._demo

test: setup system-deps
	$(BIN)/pytest -q

test-fast: setup
	$(BIN)/pytest -q -m "not ble and not browser and not slow"

bench: setup system-deps
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info demo-output .pytest_cache
