# Two commands for a new analyst: `make report` (set up, then the month's reports from the sample data)
# and `make test`. Everything is installed into .venv from pyproject.toml.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DATA   ?= data/sample
OUT    ?= outputs

.PHONY: setup report test lab demo-data clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,bench,dask]'
	$(BIN)/python -m ipykernel install --sys-prefix --name kpi-kit --display-name "Python (kpi-kit)" >/dev/null
	touch $(STAMP)

setup: $(STAMP)

report: setup
	$(BIN)/kpi run --data $(DATA) --out $(OUT)

test: setup
	$(BIN)/python -m pytest

lab: setup
	$(BIN)/jupyter lab --config=jupyter_server_config.py notebooks

# Remake the committed synthetic sample (data/sample) from the generator.
demo-data: setup
	$(BIN)/kpi demo-data --out $(DATA)

clean:
	rm -rf $(VENV) $(OUT)/*/ .pytest_cache
