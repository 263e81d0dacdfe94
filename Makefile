# mailbot — the two set-up commands are `make demo` and `make test`.
# Both are self-sufficient on a fresh Debian 12 machine where you are root:
# they install the Debian packages, build .venv/ and start the local mail stack.

# Debian's own python3 when it is 3.11 or newer: built with profile-guided optimisation and
# LTO, it runs mailbot's Python faster than a default self-built interpreter (pyenv's, say:
# bench/README.md, session 15); otherwise the python3 on the PATH.
PYTHON ?= $(shell /usr/bin/python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	2>/dev/null && echo /usr/bin/python3 || echo python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: all deps venv stack stop demo test test-unit test-reliability bench lint clean

all: test

DEBS := antiword catdoc chromium fonts-noto-cjk

deps:
	@scripts/mailstack install
	@dpkg-query -W $(DEBS) >/dev/null 2>&1 || { apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(DEBS); }

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || { $(PYTHON) -c 'import ensurepip' 2>/dev/null || { \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv; }; \
	  $(PYTHON) -m venv $(VENV); }
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

venv: $(STAMP)

stack: deps
	@scripts/mailstack start

# The default stack, and the ones `make test` starts for its second (third...) worker.
stop:
	@scripts/mailstack stop
	@for d in .mailstack-w*; do [ -d "$$d" ] || continue; n=$${d#.mailstack-w}; \
	  MAILSTACK_NAME=w$$n MAILSTACK_PORT_OFFSET=$$(( $${MAILSTACK_PORT_OFFSET:-0} + 1000 * n )) \
	  scripts/mailstack stop; done

demo: venv stack
	@scripts/demo

# Two workers (pytest-xdist), a test file at a time each; worker N > 0 starts its own
# stack (.mailstack-wN, ports + 1000·N: tests/conftest.py).
TEST_WORKERS ?= 2

test: venv stack
	$(BIN)/pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile -m "not slow"

# The long suites at full size: 50 kills over 300 mails, 20,000 fuzz cases, the slow hostile inputs.
test-reliability: venv stack
	MAILBOT_CRASH_KILLS=50 MAILBOT_CRASH_MESSAGES=300 MAILBOT_FUZZ_EXAMPLES=20000 \
	  $(BIN)/pytest -q -p no:cacheprovider tests/test_crash.py $(wildcard tests/test_hostile.py tests/test_fuzz.py)

bench: venv stack
	bench/run

test-unit: venv
	$(BIN)/pytest -q -p no:cacheprovider -m "not mailstack and not postgres"

lint: venv
	$(BIN)/ruff check mailbot tests scripts

clean: stop
	rm -rf $(VENV) .mailstack .mailstack-w* demo-data
