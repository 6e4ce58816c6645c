# VanKit: `make run` serves the van app (open http://127.0.0.1:5000; phones on the laptop's
# hotspot reach it too) ; `make test` runs every test.
# Both set up what is missing first (system packages, .venv, the package) and are idempotent.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Empty: every interface, so the crew's and the audience's phones reach the laptop;
# HOST=127.0.0.1 keeps it to this laptop.
HOST   ?=
PORT   ?= 5000
PIN    ?= 1234
# Tests run in two processes, a test file per process at a time: most of their time is spent
# waiting (real playback, servers, a browser), so two halve the wall time on two cores.
TEST_JOBS ?= 2
# The suite on another day: `make test TEST_NOW="2027-08-15 19:30+05:30"` starts every Python
# process of the run (pytest and the servers it starts) with its wall clock at that moment.
TEST_NOW ?=
TEST_CLOCK := $(if $(TEST_NOW),VANAPP_TEST_NOW="$(TEST_NOW)" PYTHONPATH=$(CURDIR)/tests/support/clock)
export VANAPP_DATA_DIR ?= $(CURDIR)/instance
export VANAPP_MEDIA_DIR ?= $(CURDIR)/media

# Debian/Ubuntu packages: libVLC to play, Chromium for browser tests, PostgreSQL for hub tests,
# zbar to read QR codes in tests (Devanagari comes with the app: vanapp/static/fonts).
RUN_PACKAGES  := libvlc5 vlc-plugin-base
TEST_PACKAGES := chromium postgresql zbar-tools libzbar0 ffmpeg
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test setup system-run system-test venv sample clean help

help:
	@echo "make run   - set up and serve the van app: open http://127.0.0.1:$(PORT)/ (crew PIN $(PIN) on first run)"
	@echo "make test  - set up and run the whole test suite"

run: system-run venv sample
	$(BIN)/vanapp serve $(if $(HOST),--host $(HOST)) --port $(PORT)

test: system-run system-test venv
	VANAPP_DATA_DIR= $(TEST_CLOCK) $(BIN)/python -m pytest -n $(TEST_JOBS) --dist loadfile $(PYTEST_ARGS)

setup: system-run system-test venv

# A package counts as present when dpkg lists it installed (`ii`), not merely known (a removed one keeps its config).
system-run:
	@missing=""; for p in $(RUN_PACKAGES); do dpkg -l $$p 2>/dev/null | grep -q '^ii' || missing="$$missing $$p"; done; \
	$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; fi

system-test:
	@missing=""; for p in $(TEST_PACKAGES); do dpkg -l $$p 2>/dev/null | grep -q '^ii' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; fi

venv: $(VENV)/.installed

$(VENV)/.installed: setup.cfg pyproject.toml
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

# Load the sample content: database, crew PIN (only if none is set), media, games, tours.
sample: venv
	$(BIN)/vanapp init --default-pin $(PIN)
	$(BIN)/vanapp media scan
	$(BIN)/vanapp games load
	$(BIN)/vanapp schedule import --sample schedules/*.yaml schedules/*.csv

clean:
	rm -rf $(VENV) instance test-artifacts .pytest_cache *.egg-info
