# Two commands matter: `make run` (the bot) and `make test` (the whole suite).
# Each creates .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

# pip-tools writes the locks; it lives in its own venv, outside the locked set.
LOCKER := .venv-lock
COMPILE := $(LOCKER)/bin/pip-compile --quiet --strip-extras --generate-hashes --allow-unsafe \
	--all-build-deps --no-emit-index-url --no-emit-find-links

.PHONY: lock upgrade countries run test compile bytecode extract update uz-cyrl stats soak soak-quick fuzz bench bench-peers surge surge-quick surge-full surge-peers surge-plot clean redis-server image-tools

# Installs exactly what requirements-dev.lock pins, each file checked against its hash
# (pip-tools' compiled requirements; `make lock` writes them, README "Dependencies").
$(STAMP): requirements-dev.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

run: $(STAMP) compile bytecode
	$(BIN)/decree-bot

test: $(STAMP) compile redis-server image-tools
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

# The tests start private Redis servers, a Cluster (made with redis-cli) and Sentinels
# (redis-server --sentinel); install Debian's redis-server and redis-tools when missing and
# we can.
redis-server:
	@{ command -v redis-server && command -v redis-cli; } >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update -qq && apt-get install -y -qq redis-server redis-tools >/dev/null; \
		else echo "redis-server and redis-cli are needed: install Debian's redis-server" \
			"and redis-tools packages" >&2; exit 1; fi; }

# The leaflet tests render PDFs and SVGs to pictures and read the QR codes back with a real
# decoder: Debian's poppler-utils, librsvg2-bin and zbar-tools, installed when missing.
IMAGE_TOOLS := pdftoppm:poppler-utils rsvg-convert:librsvg2-bin zbarimg:zbar-tools
image-tools:
	@missing=""; for pair in $(IMAGE_TOOLS); do \
		command -v $${pair%%:*} >/dev/null 2>&1 || missing="$$missing $${pair##*:}"; done; \
	[ -z "$$missing" ] || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
		else echo "needed for the tests: Debian's$$missing" >&2; exit 1; fi; }

compile: $(STAMP)
	$(BIN)/pybabel -q compile -d locales -D messages

# The sources' bytecode, written ahead as `pip install` does for the image: with
# PYTHONDONTWRITEBYTECODE set (CI, containers), every start would compile ~60 modules again
# (~50 ms of the start). A stale file is never used: Python checks it against the source.
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q bot rules

clean:
	rm -rf $(VENV) $(LOCKER) build *.egg-info

# Translator workflow (README "Languages"): extract → update → translate → compile → stats.
LANGS := ru tg uz uz_Cyrl az
extract: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k NN_:1,2 --no-location --sort-output \
		--omit-header --project decree-bot -o locales/messages.pot .

update: extract
	for l in $(LANGS); do \
		if [ -f locales/$$l/LC_MESSAGES/messages.po ]; then \
			$(BIN)/pybabel update -i locales/messages.pot -d locales -l $$l --no-fuzzy-matching --ignore-obsolete; \
		else \
			$(BIN)/pybabel init -i locales/messages.pot -d locales -l $$l; \
		fi; \
	done
	$(MAKE) uz-cyrl

# Uzbek is one language in two scripts: the Cyrillic catalog is drafted from the Latin one
# (tools/uz_cyrl.py; reviewed exceptions in locales/uz_Cyrl/transliteration.toml).
uz-cyrl: $(STAMP)
	$(BIN)/python tools/uz_cyrl.py

# The soak test: 2,000 simulated people against two webhook workers, with faults (README);
# then the hostile-client test at full size (2,000 slow connections; SECURITY.md).
soak: $(STAMP) compile redis-server
	$(BIN)/python -m soak.soak
	DECREEBOT_HOSTILE=full $(BIN)/python -m pytest -q -s tests/adapters/test_hostile_clients.py

soak-quick: $(STAMP) compile redis-server
	$(BIN)/python -m soak.soak --quick

# The fuzz test in its long mode (the normal test run does a bounded number of examples).
fuzz: $(STAMP) compile redis-server
	DECREEBOT_FUZZ_EXAMPLES=5000 $(BIN)/python -m pytest -q tests/adapters/test_fuzz.py -k random_updates

# Peers for `make bench`: own venv (aiogram 3.31 pins pydantic < 2.14; the bot needs >= 2.14).
PEERS := $(VENV)/peers
$(PEERS)/.installed-stamp:
	$(PYTHON) -m venv $(PEERS)
	$(PEERS)/bin/python -m pip install --quiet 'python-telegram-bot==22.8' 'aiogram==3.31.0' 'redis[hiredis]==8.1.0'
	touch $@

bench-peers: $(PEERS)/.installed-stamp

bench: $(STAMP) compile bytecode redis-server bench-peers
	$(BIN)/python -m bench.bench

# The surge benchmark (README "Surge benchmark"): 1,000 people within 10 s against a hidden
# overall limit, decree-bot with 1, 2 and 4 workers and PTB's AIORateLimiter as the peer.
# The peer and matplotlib live in venvs of their own, so the bot's install does not grow.
SURGE_PEERS := $(VENV)/surge-peers
PLOT := $(VENV)/plot
$(SURGE_PEERS)/.installed-stamp:
	$(PYTHON) -m venv $(SURGE_PEERS)
	$(SURGE_PEERS)/bin/python -m pip install --quiet 'python-telegram-bot[rate-limiter,webhooks]==22.8'
	touch $@

$(PLOT)/.installed-stamp:
	$(PYTHON) -m venv $(PLOT)
	$(PLOT)/bin/python -m pip install --quiet 'matplotlib==3.11.2'
	touch $@

surge-peers: $(SURGE_PEERS)/.installed-stamp
surge-plot: $(PLOT)/.installed-stamp

surge: $(STAMP) compile redis-server surge-peers surge-plot
	$(BIN)/python -m surge.surge

surge-quick: $(STAMP) compile redis-server surge-peers surge-plot
	$(BIN)/python -m surge.surge --quick

# Issue 18's full size: 3,000 people within 30 s (about half an hour on two cores).
surge-full: $(STAMP) compile redis-server surge-peers surge-plot
	$(BIN)/python -m surge.surge --people 3000 --window 30 --run-seconds 300

stats: $(STAMP)
	$(BIN)/python -m bot.catalog_stats

# The locks: requirements-dev.lock (runtime + dev, what make run/test install) and
# requirements.lock (runtime only, what the image installs), both with hashes. `make lock`
# after changing pyproject.toml's dependencies keeps every other pin; `make upgrade` takes the
# newest versions pyproject.toml allows. Then `make countries` and `make test` (README).
$(LOCKER)/.installed-stamp:
	$(PYTHON) -m venv $(LOCKER)
	$(LOCKER)/bin/python -m pip install --quiet 'pip-tools==7.6.2'
	touch $@

lock: $(LOCKER)/.installed-stamp
	$(COMPILE) --extra dev -o requirements-dev.lock pyproject.toml
	$(COMPILE) -c requirements-dev.lock -o requirements.lock pyproject.toml

upgrade: $(LOCKER)/.installed-stamp
	$(COMPILE) --upgrade --extra dev -o requirements-dev.lock pyproject.toml
	$(COMPILE) -c requirements-dev.lock -o requirements.lock pyproject.toml

# Regenerate the country table from the locked Babel's CLDR (after a Babel upgrade).
countries: $(STAMP)
	$(BIN)/python tools/gen_countries.py
