# aip-forms: `make demo` and `make test` do all set-up on a fresh Debian machine (as root).
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export AIP_HOME ?= $(CURDIR)/var

APT_PACKAGES := postgresql libreoffice-calc-nogui libreoffice-writer-nogui python3-uno \
	poppler-utils fonts-dejavu-core fonts-liberation redis-server chromium
# A command per package tells whether it is there already.
APT_CHECKS := /usr/lib/postgresql /usr/bin/soffice /usr/bin/pdftotext \
	/usr/lib/python3/dist-packages/uno.py /usr/share/fonts/truetype/liberation \
	/usr/bin/redis-server /usr/bin/chromium
# The portal's USWDS build, copied from node_modules and served by the app (no CDN).
USWDS := web/static/uswds

.PHONY: demo test lint typecheck unit bench setup apt venv assets clean lock

setup: apt venv assets

apt:
	@missing=0; for p in $(APT_CHECKS); do [ -e $$p ] || missing=1; done; \
	if [ $$missing = 1 ]; then \
	  echo "Installing system packages: $(APT_PACKAGES)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq || true; \
	  apt-get install -y -qq --no-install-recommends $(APT_PACKAGES) >/dev/null; \
	fi
	@# Node.js with npm: Debian's packages only when none is installed (a machine may carry
	@# NodeSource's nodejs, which provides npm and conflicts with Debian's npm package).
	@if ! command -v npm >/dev/null; then \
	  echo "Installing Node.js and npm"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    nodejs npm >/dev/null; \
	fi

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

# npm ci when node_modules is missing or older than the lock file.
node_modules/.package-lock.json: package-lock.json | apt
	npm ci --no-audit --no-fund
	touch $@

$(USWDS)/.copied: node_modules/.package-lock.json
	rm -rf $(USWDS)
	mkdir -p $(USWDS)
	cp -r node_modules/@uswds/uswds/dist/css node_modules/@uswds/uswds/dist/js \
	  node_modules/@uswds/uswds/dist/fonts node_modules/@uswds/uswds/dist/img $(USWDS)/
	touch $@

assets: $(USWDS)/.copied

demo: setup
	$(BIN)/python -m aip_forms.demo

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

# A failed test runs once more; the summary lists it as RERUN either way (README "Tests").
test: setup lint typecheck
	$(BIN)/pytest -n 2 --dist loadgroup --reruns 1 -r aR --durations 15

unit: venv
	$(BIN)/pytest tests/unit -q

bench: setup
	$(BIN)/python -m bench.run_all

# The production install's pins with hashes (README "Deployment"); uv in a venv of its own,
# so the test venv is untouched. Keeps the pins unless UPGRADE=1.
LOCK_FLAGS := --generate-hashes --python-version 3.11 --python-platform x86_64-unknown-linux-gnu
lock:
	test -x .venv-lock/bin/uv || ($(PY) -m venv .venv-lock && .venv-lock/bin/pip install -q uv)
	.venv-lock/bin/uv pip compile pyproject.toml $(LOCK_FLAGS) $(if $(UPGRADE),--upgrade) \
		--custom-compile-command "make lock" -q -o requirements.lock

clean:
	rm -rf $(VENV) .venv-lock var .mypy_cache .ruff_cache .pytest_cache node_modules $(USWDS)
