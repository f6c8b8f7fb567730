# minillm: the course you can run.
#   make course   build .venv if needed, then execute every notebook (auto profile) and write runs/<profile>/REPORT.md
#   make test     build .venv if needed, then unit/parity tests + nbval over every notebook (smoke profile)
#   make lab      open JupyterLab on notebooks/
#   make bench    run the benchmark scripts
#
# TORCH picks the PyTorch build installed before everything else. The default is a CPU
# build (no multi-GB CUDA download). On a CUDA machine use e.g.
#   make course TORCH="torch --index-url https://download.pytorch.org/whl/cu124"
PYTHON ?= python3
TORCH ?= torch==2.13.0
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.minillm-installed

.PHONY: course test lab bench install clean-artifacts

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet $(TORCH)
	$(PIP) install --quiet -e ".[dev]"
	@touch $(STAMP)

course: $(STAMP)
	$(PY) -m minillm.course $(if $(NOTEBOOKS),--only $(NOTEBOOKS),)

test: $(STAMP)
	MINILLM_PROFILE=smoke TQDM_DISABLE=1 PYTHONHASHSEED=0 MPLBACKEND=Agg \
		$(PY) -m pytest tests notebooks --nbval-lax --nbval-current-env -p no:cacheprovider $(PYTEST_ARGS)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/

bench: $(STAMP)
	@for script in benchmarks/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean-artifacts:
	rm -rf artifacts runs
