# imgtool: every target sets up what it needs; `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install test demo bench samples lint clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check imgtool tests benchmarks

test: lint
	$(BIN)/python -m pytest -q

demo: $(STAMP)
	@mkdir -p out
	$(BIN)/imgtool scan samples/letter_wood.jpg -o out/letter_wood.scan.png --overwrite
	@echo "demo: the flattened page is in out/letter_wood.scan.png (input: samples/letter_wood.jpg)"

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

samples: $(STAMP)
	$(BIN)/python -m imgtool.synth samples

clean:
	rm -rf $(VENV) out build *.egg-info .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	find . \( -name '*.nbi' -o -name '*.nbc' \) -delete
