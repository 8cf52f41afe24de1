# aip-forms: `make demo` and `make test` do all set-up on a fresh Debian machine (as root).
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export AIP_HOME ?= $(CURDIR)/var

APT_PACKAGES := postgresql libreoffice-calc-nogui libreoffice-writer-nogui python3-uno \
	poppler-utils fonts-dejavu-core fonts-liberation
# A command per package tells whether it is there already.
APT_CHECKS := /usr/lib/postgresql /usr/bin/soffice /usr/bin/pdftotext \
	/usr/lib/python3/dist-packages/uno.py /usr/share/fonts/truetype/liberation

.PHONY: demo test lint typecheck unit bench setup apt venv clean

setup: apt venv

apt:
	@missing=0; for p in $(APT_CHECKS); do [ -e $$p ] || missing=1; done; \
	if [ $$missing = 1 ]; then \
	  echo "Installing system packages: $(APT_PACKAGES)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq || true; \
	  apt-get install -y -qq --no-install-recommends $(APT_PACKAGES) >/dev/null; \
	fi

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

demo: setup
	$(BIN)/python -m aip_forms.demo

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

test: setup lint typecheck
	$(BIN)/pytest -n 2 --dist loadgroup

unit: venv
	$(BIN)/pytest tests/unit -q

bench: setup
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
