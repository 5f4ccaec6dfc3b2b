# The set-up commands: `make demo`, `make test` and `make serve`. Each starts from nothing but Python and make.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
OUT    ?= demo-output

.PHONY: demo test serve lint typecheck unit bench fresh-clone clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-run

$(VENV)/.installed-web: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e '.[web]'
	touch $@ $(VENV)/.installed-run

demo: $(VENV)/.installed-run
	$(BIN)/rechallenge demo --out $(OUT)
	@echo "The rechallenge command is in $(VENV)/bin: run '. $(VENV)/bin/activate' in each new shell, or call $(BIN)/rechallenge."

serve: $(VENV)/.installed-web
	$(BIN)/rechallenge serve

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

unit: $(VENV)/.installed-test
	$(BIN)/pytest -q

test: lint typecheck unit

bench: $(VENV)/.installed-test
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python -m benchmarks.run_all

# The README's and getting-started's shell commands, verbatim, in a fresh clone (CI runs it).
fresh-clone:
	tools/fresh_clone_check.sh

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .mypy_cache .ruff_cache
