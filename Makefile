# Two commands matter: `make run` and `make test`. Both build the virtualenv first.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Compiles the router's data path (Cython) unless the build matches the sources (milliseconds then);
# without a C compiler it says so and the router runs its .py files. A compile error fails.
ROUTER_BUILD := $(PY) -m router.build --quiet --if-possible

.PHONY: run test lint seed migrate bench db-stop clean prometheus

$(STAMP): requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; set PYTHON=python3.x"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	@touch $(STAMP)

run: $(STAMP)
	@$(ROUTER_BUILD) || echo 'router: running its .py files'
	$(PY) -m scripts.run_local

test: $(STAMP)
	$(PY) -m ruff check .
	$(ROUTER_BUILD)
	@# promtool runs the alert-rule tests; Debian's prometheus package when missing (apt-get as root)
	$(PY) -m scripts.ensure_apt prometheus=promtool
	$(PY) -m pytest
	ROUTER_PURE_PYTHON=1 $(PY) -m pytest tests/router

prometheus: $(STAMP)
	$(PY) -m scripts.prometheus_local

lint: $(STAMP)
	$(PY) -m ruff check .

migrate: $(STAMP)
	$(PY) -m shared.migrate

seed: $(STAMP)
	$(PY) -m scripts.seed $(if $(N),--models $(N),)

bench: $(STAMP)
	$(PY) bench/coldstart.py

db-stop: $(STAMP)
	$(PY) -c "from shared.config import get_settings; from shared.db.embedded import stop_embedded; \
	print('stopped' if stop_embedded(get_settings().data_dir) else 'not running')"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache router/_compiled
