# The two commands of the README. Both set up what they need (virtual environment, packages).
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint install clean scaleout bundle

install:
	@bash scripts/bootstrap.sh

# The main job: check and load the plan, show the status, then the Prefect server with its UI on
# 127.0.0.1:4200 and the scheduled flows (scripts/run.sh). Ctrl-C stops everything.
run: install
	@bash scripts/run.sh

# The suite on SQLite and, at the same time, on a private PostgreSQL server (scripts/test.sh).
test:
	@bash scripts/test.sh

# The scale-out path tried on this machine: Prefect on PostgreSQL, a work pool, two workers (README, Operations).
scaleout: install
	$(BIN)/python scripts/scaleout.py

# An offline install for servers without internet (README, Operations: install offline): every wheel for x86_64 and aarch64,
# CPython 3.11, in bundle/ (scripts/bundle.sh). `make bundle BUNDLE=/path PLATFORMS=aarch64` narrows it.
BUNDLE ?= bundle
PLATFORMS ?= x86_64 aarch64
bundle:
	@FUQUAN_BUNDLE=none bash scripts/bootstrap.sh
	@BUNDLE="$(BUNDLE)" PLATFORMS="$(PLATFORMS)" bash scripts/bundle.sh

# Style and types of the packages (CI runs it after the tests).
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) data .pytest_cache
