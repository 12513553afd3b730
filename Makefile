# entryprune-bench: every target creates the virtualenv first if needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# CI and development read datasets from the shared mirror beside the checkout when it exists.
export ENTRYPRUNE_DATA_MIRROR ?= $(abspath $(wildcard ../shared/datasets))
PYTEST_FLAGS ?=

.DEFAULT_GOAL := help
.PHONY: help install run test test-slow test-gpu gpu-check lint data bench bench-scaling bench-entryprune reproduce reproduce-quick paper-cpu fidelity report clean

help:  ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install the project (re-runs only when pyproject.toml changed)

run: install  ## the first minute: EntryPrune vs random and anova_f on digits, then a summary table
	$(BIN)/python run.py -m experiment=demo; status=$$?; \
	$(BIN)/python scripts/report.py --exp-name demo --summary; exit $$status

test: install  ## the test suite (fast; data tests run when the mirror is present)
	$(BIN)/python -m pytest $(PYTEST_FLAGS)

test-slow: install  ## long training tests (paper-quality checks)
	$(BIN)/python -m pytest -m "slow" $(PYTEST_FLAGS)

test-gpu: install  ## CUDA tests (needs a GPU)
	$(BIN)/python -m pytest -m "gpu" $(PYTEST_FLAGS)

gpu-check: install  ## GPU readiness: the CUDA tests, then EntryPrune on MNIST at K=50 on CUDA (< 10 min)
	$(BIN)/python scripts/gpu_check.py

data: install  ## fetch and verify every dataset file into ENTRYPRUNE_DATA (mirror first, then the network)
	$(BIN)/python scripts/fetch_data.py all

reproduce: install  ## the paper's grid (experiment=paper, GPU box or cluster), then its report
	$(BIN)/python run.py -m experiment=paper; status=$$?; \
	$(BIN)/python scripts/report.py --exp-name paper; exit $$status

reproduce-quick: install  ## a CPU subset of the paper (experiment=quick, < 45 min on 2 cores), then its report
	$(BIN)/python run.py -m experiment=quick; status=$$?; \
	$(BIN)/python scripts/report.py --exp-name quick; exit $$status

paper-cpu: install  ## the paper's grid at full settings on this CPU machine (long; resumes; rows in results/published)
	$(BIN)/python run.py -m experiment=paper_cpu; status=$$?; \
	$(BIN)/python scripts/report.py --exp-name paper_cpu --results-dir results/published; exit $$status

fidelity: install  ## the baselines at their authors' settings beside Table 7 (resumes; rows committed in results/published)
	$(BIN)/python run.py -m experiment=fidelity; status=$$?; \
	$(BIN)/python scripts/report.py --exp-name fidelity --results-dir results/published; exit $$status

report: install  ## rebuild the report of EXP (default quick) from its CSV in RESULTS (default results)
	$(BIN)/python scripts/report.py --exp-name $(or $(EXP),quick) --results-dir $(or $(RESULTS),results)

bench: install  ## speed and memory of every selector (results/perf/selectors.csv)
	$(BIN)/python scripts/bench_selectors.py

bench-scaling: install  ## selection time vs n and vs D for the neural selectors (results/perf/scaling.*)
	$(BIN)/python scripts/bench_scaling.py

bench-entryprune: install  ## EntryPrune bookkeeping overhead and end-to-end times (results/perf/entryprune.csv)
	$(BIN)/python scripts/bench_entryprune.py

lint: install  ## ruff
	$(BIN)/ruff check .

# Everything under results/ is a run output except its committed data: results/reference
# (the papers' published numbers) and results/published (rows and reports of long runs that
# later sittings resume from). Per-cell files go too, or a rerun would rebuild its rows
# from them instead of recomputing.
clean:  ## remove every run output: results/ but its committed data (reference, published), outputs/, multirun/
	@for path in results/* results/.[!.]*; do \
	  [ -e "$$path" ] || continue; \
	  case "$${path#results/}" in \
	    reference) echo "kept $$path: the published numbers the report compares with (committed)" ;; \
	    published) echo "kept $$path: committed rows and reports of long runs, resumed by later runs" ;; \
	    *) echo "rm -rf $$path"; rm -rf "$$path" ;; \
	  esac; \
	done
	rm -rf outputs multirun
