# The two commands a new user needs: `make run` and `make test`. See README.md.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/finance_test
# Two workers: the suite is CPU-bound and this machine has two cores.
PYTEST_ARGS ?= -n 2
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-fast venv dev-venv lint format clean bench bench-smoke wheels

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

venv: $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt

dev-venv: $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt

## make run: serve the API on http://127.0.0.1:8000 with SQLite under instance/.
run: venv
	APP_ENV=development FLASK_APP=wsgi $(BIN)/flask db upgrade
	APP_ENV=development $(BIN)/gunicorn --config gunicorn.conf.py --bind $(HOST):$(PORT) --workers 1 --threads 8 wsgi:app

## make test: the whole suite on PostgreSQL (TEST_DATABASE_URL overrides the default), then the
## bench smoke (bench/smoke.py, about three minutes; SMOKE=0 leaves it out). The smoke needs
## wrk: installed from Debian when it can be; otherwise skipped, said so (a failure under CI).
SMOKE ?= 1
test: dev-venv
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/pytest $(PYTEST_ARGS)
	@if [ "$(SMOKE)" != 1 ]; then echo "bench smoke: left out (SMOKE=$(SMOKE))"; \
	elif command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }; then \
		TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python -m bench.smoke; \
	elif [ -n "$$CI" ]; then echo "bench smoke: wrk is missing and could not be installed" >&2; exit 1; \
	else echo "bench smoke: skipped: wrk is missing (sudo apt install wrk)"; fi

## make test-fast: the inner loop, every test but the slow ones (gunicorn, docker, browser,
## fuzzing; marked `slow`), in under three minutes.
test-fast: dev-venv
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/pytest $(PYTEST_ARGS) -m "not slow"

lint: dev-venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: dev-venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache

## make wheels: download every pinned requirement into wheels/ for the image's Python (CPython
## 3.11, glibc 2.36 as in Debian bookworm): `docker build` then installs from there, offline.
WHEEL_ARCH ?= $(shell uname -m)
WHEEL_PLATFORMS := manylinux2014_$(WHEEL_ARCH) $(foreach v,$(shell seq 17 36),manylinux_2_$(v)_$(WHEEL_ARCH))
wheels: $(BIN)/python requirements.txt
	$(BIN)/pip download --quiet --dest wheels --requirement requirements.txt \
		--only-binary=:all: --implementation cp --python-version 3.11 \
		$(addprefix --platform ,$(WHEEL_PLATFORMS))
	@ls wheels/*.whl | wc -l | xargs printf 'wheels/: %s wheels\n'

## make bench: seed 1M transactions (cached), serve under gunicorn, measure with wrk. See bench/.
bench: dev-venv
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python -m bench.run

## make bench-smoke: the regression guard: 50k rows, a few seconds a scenario, each scenario at
## or above half its bar as a share of the floor measured beside it (bench/smoke.py).
bench-smoke: dev-venv
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python -m bench.smoke
