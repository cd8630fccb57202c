# brainbench: `make install` then `make demo`; `make test` runs the test suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch/torchvision are pinned to wheels that install offline on the project's machines; override for others.
TORCH_SPEC ?= torch==2.14.1 torchvision==0.29.1
# The offline data mirror, when present beside the checkout (tests and the demo use it).
export BRAINBENCH_DATA_MIRROR ?= $(abspath $(wildcard ../shared/data))

.PHONY: install test demo demo-it lint bench bench-suite brainscore-fixtures clean

install: $(BIN)/brainbench

$(BIN)/brainbench: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(TORCH_SPEC)
	$(BIN)/python -m pip install -q -e '.[test,demo]'
	@touch $@

test: install
	$(BIN)/python -m pytest -q

# The main job, offline with no data at all: V1 single-neuron properties from generated gratings (Marques et al. 2021).
demo: install
	$(BIN)/brainbench score efficientnet_lite0 -b 'Marques2020.*'
	$(BIN)/brainbench leaderboard

# IT RSA on the 92 images (needs the data: network access or BRAINBENCH_DATA_MIRROR).
demo-it: install
	$(BIN)/brainbench score efficientnet_lite0 -b Kiani2007.IT-rsa -b Kriegeskorte2008.IT-rsa
	$(BIN)/brainbench score timm:resnet18 --random-init -b Kiani2007.IT-rsa -b Kriegeskorte2008.IT-rsa
	$(BIN)/brainbench leaderboard

lint: install
	$(BIN)/ruff check brainbench tests bench

# Benchmarks print ratios against references run side by side at their best thread setting, and the load average.
BENCH_DATA ?= /tmp/brainbench-bench
bench: install
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/threads_under_load.py
	$(BIN)/python bench/rsa_speed.py
	$(BIN)/python bench/neural_speed.py
	$(BIN)/python bench/ridge_speed.py
	test -f $(BENCH_DATA)/assembly.nc || $(BIN)/python bench/evaluate_speed.py write $(BENCH_DATA)
	$(BIN)/python bench/evaluate_speed.py run $(BENCH_DATA) --reference-splits 2
	$(BIN)/python bench/brainscore_reference.py timing $(BENCH_DATA) --bsenv $(BSENV)
	$(BIN)/python bench/rescore_speed.py

# One model on every benchmark whose data are present offline, with a per-stage breakdown (~12 min on 2 CPU cores;
# on a GPU: SUITE_ARGS='--device cuda', timm:resnet50 --random-init by default).
SUITE_ARGS ?= --model "timm:resnet18 --random-init" --runs 1
bench-suite: install
	$(BIN)/python bench/suite_speed.py $(SUITE_ARGS)

# Regenerate tests/fixtures/brainscore: Brain-Score 2.4.2's own numbers on small generated files (needs its venv:
# the recipe is in bench/brainscore_reference.py's docstring).
BSENV ?= /tmp/bsenv
brainscore-fixtures: install
	$(BIN)/python bench/brainscore_fixtures.py --bsenv $(BSENV)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
