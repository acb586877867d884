# Two commands for a new analyst: `make report` (set up, then the month's reports from the sample data)
# and `make test`. Everything is installed into .venv from pyproject.toml: `make report` installs only what
# the reports need; `make test` adds the test, benchmark and Dask extras (about 100 MB more).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
EXTRAS := $(VENV)/.installed-extras
DATA   ?= data/sample
OUT    ?= outputs

.PHONY: setup extras report test lab demo-data clean

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	# The kit's kernel (`kpi run --engine kernel`, JupyterLab), running the interpreter exactly as `kpi` does
	# (frozen_modules: no -Xfrozen_modules=off, which only helps a debugger step into a dozen standard modules).
	# From Python: ipykernel 7.4's `ipykernel install --frozen_modules` reads the flag but does not pass it on.
	$(BIN)/python -c 'import sys; from ipykernel.kernelspec import install; install(prefix=sys.prefix, \
		kernel_name="kpi-kit", display_name="Python (kpi-kit)", frozen_modules=True)'
	touch $(STAMP)

setup: $(STAMP)

# The test, benchmark and Dask extras: only `make test` (or `make extras`) needs them.
$(EXTRAS): $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,bench,dask]'
	touch $(EXTRAS)

extras: $(EXTRAS)

report: setup
	$(BIN)/kpi run --data $(DATA) --out $(OUT)

test: extras
	$(BIN)/python -m pytest

lab: setup
	$(BIN)/jupyter lab --config=jupyter_server_config.py notebooks

# Remake the committed synthetic sample (data/sample) from the generator.
demo-data: setup
	$(BIN)/kpi demo-data --out $(DATA)

clean:
	rm -rf $(VENV) $(OUT)/*/ .pytest_cache
