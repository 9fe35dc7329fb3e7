"""A real Celery worker (with beat off) pointed at the test database (the integration tests see what a real worker does, not eager mode)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import warnings

import pytest
from django.conf import settings


def _database_url() -> str:
    from django.db import connection

    s = connection.settings_dict
    if connection.vendor == "postgresql":
        return f"postgresql://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    return f"sqlite:///{s['NAME']}"


@pytest.fixture(scope="module")
def celery_worker_process(django_db_setup, django_db_blocker):
    """Start ``celery worker`` as a separate process against the test database; stop it when the
    module's tests are done. Not longer: a worker left running takes the tasks that later tests
    enqueue on commit (the edit checks after every form write) and writes into the test database
    while those tests tear it down."""
    # The worker gets this process's (already per-xdist-process) broker and folder as they are.
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_XDIST_WORKER"}
    env["DJANGO_SETTINGS_MODULE"] = "ecrf.settings_test"
    with django_db_blocker.unblock():
        env["DATABASE_URL"] = _database_url()
    env["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL
    # One worker start that dies is retried once, and what it printed is reported as a warning;
    # a second death fails the tests that need the worker, with its output.
    proc, log = _start_worker(env)
    if proc is None:
        warnings.warn(f"the Celery worker died while starting; starting it again. It printed:\n{log}", stacklevel=1)
        proc, log = _start_worker(env)
        if proc is None:
            pytest.fail(f"the Celery worker did not start:\n{log}")
    yield proc
    _stop(proc, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        _stop(proc, signal.SIGKILL)
    os.unlink(log)


def _start_worker(env: dict[str, str]) -> tuple[subprocess.Popen | None, str]:
    """A running worker and its log file's path, or None and what the worker printed."""
    from ecrf.celery import app

    # The worker writes to a file, not a pipe: nobody reads a pipe while the tests run, and a
    # full pipe would stall the worker; the file is what a failure to start reports.
    with tempfile.NamedTemporaryFile(prefix="ecrf-test-worker-", suffix=".log", delete=False) as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "ecrf", "worker", "--pool=solo", "--without-gossip",
             "--without-mingle", "--without-heartbeat", "--loglevel=WARNING", "-n", f"test-{os.getpid()}@%h"],
            env=env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    ready = False
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        if settings.CELERY_BROKER_URL.startswith("filesystem"):
            # The filesystem transport has no broadcast (ping); the worker is ready once it runs.
            time.sleep(3)
            ready = proc.poll() is None
            break
        try:
            if app.control.ping(timeout=1.0):
                ready = True
                break
        except Exception:  # noqa: BLE001
            time.sleep(0.5)
    if ready:
        return proc, log.name
    _stop(proc, signal.SIGKILL)
    proc.wait()
    with open(log.name, encoding="utf-8", errors="replace") as f:
        output = f.read()
    os.unlink(log.name)
    return None, f"(exit code {proc.returncode})\n{output}"


def _stop(proc: subprocess.Popen, sig: int) -> None:
    """Signal the worker's process group; it may have exited (and been reaped) already."""
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.2):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()
