# imgtool: every target sets up what it needs; `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install ahead test demo bench samples lint clean

install: $(STAMP) ahead

# The kernels compiled ahead of time (numba.pycc; needs a C compiler), so that a command
# started for one photo need not import Numba. Does nothing when current; if it cannot be
# built, it warns and imgtool uses the JIT kernels (README, "Start-up").
ahead: $(STAMP)
	@$(BIN)/python -m imgtool.kernels._ahead

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check imgtool tests benchmarks

test: lint ahead
	$(BIN)/python -m pytest -q

demo: $(STAMP) ahead
	@mkdir -p out
	$(BIN)/imgtool scan samples/letter_wood.jpg -o out/letter_wood.scan.png --overwrite
	@echo "demo: the flattened page is in out/letter_wood.scan.png (input: samples/letter_wood.jpg)"

bench: $(STAMP) ahead
	$(BIN)/python -m benchmarks.run

samples: $(STAMP)
	$(BIN)/python -m imgtool.synth samples

clean:
	rm -rf $(VENV) out build *.egg-info .pytest_cache .ruff_cache .hypothesis
	rm -f imgtool/kernels/_ahead_lib.* imgtool/kernels/._ahead_lib*
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	find . \( -name '*.nbi' -o -name '*.nbc' \) -delete
