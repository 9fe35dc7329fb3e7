# The README names `make run` and `make test`; the rest are conveniences.
.PHONY: run test services lint bench ci messages

run:        ## SQLite, a local worker with beat, demo data, http://127.0.0.1:8000
	bin/run-embedded

test:       ## the whole suite (service tests skip with a reason when the service is absent)
	bin/test $(PYTEST_ARGS)

services:   ## install PostgreSQL, Redis and Chromium (Debian, root) for full test coverage
	bin/services

messages:   ## the Greek catalogue: collect the strings of the code into it, then compile it (GNU gettext)
	bin/bootstrap requirements-dev.txt
	DEBUG=1 .venv/bin/python manage.py makemessages -l el --no-obsolete --add-location=file $(MESSAGES_IGNORE)
	DEBUG=1 .venv/bin/python manage.py compilemessages -l el $(MESSAGES_IGNORE)

MESSAGES_IGNORE = --ignore=.venv --ignore=tests --ignore=var --ignore=benchmarks --ignore=static --ignore=docs

lint:
	bin/bootstrap requirements-dev.txt
	.venv/bin/ruff check ecrf safety tests
	.venv/bin/lint-imports

bench:
	bin/bootstrap requirements-dev.txt
	@for b in benchmarks/*.py; do echo "== $$b"; .venv/bin/python $$b || exit 1; done

ci:         ## what CI runs (as root; installs and starts the services)
	bash .ci/run
