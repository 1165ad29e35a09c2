# chistka: two commands on a fresh machine with only Python.
#   make run   set up .venv and run the default built-in scenario
#   make test  set up .venv, run ruff and the quick tests (at most 5 minutes on 2 cores)
#   make test-slow  the slow tier: default-scale runs, end-to-end (the CLI, the browser app in
#              headless Chromium) and statistical tests
#   make serve the browser app (chistka serve) on http://127.0.0.1:8000/
#   make experiment  a built-in experiment (EXPERIMENT=centre-or-periphery or no-halt)
#   make bench set up .venv and run the benchmarks of bench/
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SCENARIO ?= great-terror
OUT ?= out/$(SCENARIO)
EXPERIMENT ?= centre-or-periphery

.PHONY: run test test-slow lint setup clean bench browser serve experiment

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/chistka run $(SCENARIO) --out $(OUT)

test: $(STAMP)
	$(BIN)/ruff check src tests scripts bench
	$(BIN)/python -m pytest -q -m "not slow"

test-slow: $(STAMP) browser
	$(BIN)/python -m pytest -q -m slow

# Debian's Chromium and ChromeDriver for the browser test (tests/test_web_browser.py), installed
# when missing; where they cannot be installed (no apt, no root) the test fails in CI and is
# skipped elsewhere, with the reason.
browser:
	@command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || \
	  (apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null) || \
	  echo "make browser: could not install Debian's chromium and chromium-driver"

# The browser app on http://127.0.0.1:8000/ (runs kept in out/web/)
serve: $(STAMP)
	$(BIN)/chistka serve

# A built-in experiment at its default seeds, on every core (centre-or-periphery: 64 runs of
# great-terror, about 13 minutes on a 2-core machine with nothing beside: docs/experiments.md);
# --resume finishes a stopped one.
experiment: $(STAMP)
	$(BIN)/chistka experiment run $(EXPERIMENT) --out out/experiment-$(EXPERIMENT) --resume

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts bench

# The benchmarks (about 40 minutes on a 2-core machine, and up to two hours more for the whole
# calibration); each prints its figures and ratios.
# every bench runs even when one misses its target; the exit status says whether any did
bench: $(STAMP)
	status=0; for name in full_scale scaling vs_mesa ensemble seeds calibration; do \
		$(BIN)/python bench/$$name.py || { echo "bench/$$name.py: a target missed"; status=1; }; \
	done; exit $$status

clean:
	rm -rf $(VENV) out build src/*.egg-info
