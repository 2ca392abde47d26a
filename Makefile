# Two commands set everything up on a fresh machine:
#   make demo   the demo newsroom ingested through Airflow into ./lake
#   make test   the test suite (what CI runs)
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv

.PHONY: venv demo test hostile fuzz lint bench parser-fingerprint requirements clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# uv compiles bytecode (pyproject: compile-bytecode): without .pyc `import airflow` is 2x slower.
venv: $(UV)
	$(UV) sync --locked --python $(PYTHON)

demo: venv
	$(VENV)/bin/newslake demo

# A test whose prerequisite is missing fails (tests/helpers/prereqs.py): this target
# installs them all.
test: venv
	scripts/system-deps.sh
	$(VENV)/bin/ruff check include dags plugins tests bench scripts
	$(VENV)/bin/mypy
	$(VENV)/bin/python -m pytest

# The hostile-input and fault suite alone, with its summary (also part of `make test`).
hostile: venv
	$(VENV)/bin/python -m pytest tests/hostile -q

# A long fuzz run of parse_article on mutated demo and dev-corpus pages; never part of the
# tests. Prints its seed (set it with FUZZ_SEED=N); crashing mutants go to fuzz-crashes/.
FUZZ_SECONDS ?= 600
fuzz: venv
	$(VENV)/bin/python scripts/fuzz.py --seconds $(FUZZ_SECONDS) $(if $(FUZZ_SEED),--seed $(FUZZ_SEED))

# Prints figures beside their baselines and goals; never part of the tests.
bench: venv
	$(VENV)/bin/python bench/run_all.py

# After a change to parsing output: bump PARSER_VERSION (include/newslake/parse/version.py),
# then record the dev-sample outputs it gives (tests/test_parser_version.py checks them).
parser-fingerprint: venv
	$(VENV)/bin/python scripts/parser_fingerprint.py --write

lint: venv
	$(VENV)/bin/ruff check include dags plugins tests bench scripts
	$(VENV)/bin/mypy

# requirements.txt is exported from uv.lock for images and pip users; never edit it by hand.
requirements: $(UV)
	$(UV) lock
	$(UV) export --frozen --no-dev --no-emit-project --no-hashes -o requirements.txt

clean:
	rm -rf $(VENV) $(TOOLS) .airflow lake
