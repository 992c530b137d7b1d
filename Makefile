# The two commands of the README. Both set up what they need (virtual environment, packages).
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test install clean

install:
	@bash scripts/bootstrap.sh

# The main job: check the plan, load it into the database (SQLite by default), show the status.
run: install
	$(BIN)/fuquan plan check
	$(BIN)/fuquan sync
	$(BIN)/fuquan status

test: install
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) data .pytest_cache
