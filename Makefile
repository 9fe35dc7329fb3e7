# The README names `make run` and `make test`; the rest are conveniences.
.PHONY: run test services lint bench ci

run:        ## SQLite, a local worker with beat, demo data, http://127.0.0.1:8000
	bin/run-embedded

test:       ## the whole suite (service tests skip with a reason when the service is absent)
	bin/test $(PYTEST_ARGS)

services:   ## install PostgreSQL, Redis and Chromium (Debian, root) for full test coverage
	bin/services

lint:
	bin/bootstrap requirements-dev.txt
	.venv/bin/ruff check ecrf safety tests
	.venv/bin/lint-imports

bench:
	bin/bootstrap requirements-dev.txt
	@for b in benchmarks/*.py; do echo "== $$b"; .venv/bin/python $$b || exit 1; done

ci:         ## what CI runs (as root; installs and starts the services)
	bash .ci/run
