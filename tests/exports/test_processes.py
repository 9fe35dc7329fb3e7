"""Separate processes: the same lock gives the same bytes in two processes with the clock moved,
and a worker killed mid-export leaves no visible package; its retry gives the same bytes."""

from __future__ import annotations

import pytest

from ecrf.accounts.roles import Role
from ecrf.exports.models import ExportJob, ExportStatus
from ecrf.exports.services import export_file_name, export_request
from tests.exports.conftest import build_locked_study, package_bytes, run_in_process

pytestmark = pytest.mark.django_db(transaction=True)

RUN = """
import time_machine
from ecrf.exports.services import export_job_run
with time_machine.travel({at!r}, tick=False):
    print(export_job_run(job_id={job}).status)
"""
# The worker dies (no exception handler runs, as with SIGKILL) after the zip has its first entries.
CRASH = """
import os, shutil
real, calls = shutil.copyfileobj, []
def dying(src, dst, length=0):
    calls.append(1)
    if len(calls) == 5:
        dst.write(src.read(64))
        os._exit(7)
    return real(src, dst, length)
shutil.copyfileobj = dying
from ecrf.exports.services import export_job_run
export_job_run(job_id={job})
"""


def test_two_processes_two_clocks_one_crash_and_its_retry_give_the_same_bytes(users, site_a, exports_dir):
    build_locked_study(users, site_a)
    sponsor = users[Role.SPONSOR]
    first = export_request(actor=sponsor)
    done = run_in_process(RUN.format(at="2030-01-01 03:00Z", job=first.pk), exports_dir)
    assert done.returncode == 0 and done.stdout.strip() == "done", done.stderr
    first.refresh_from_db()

    second = export_request(actor=sponsor)
    crashed = run_in_process(CRASH.format(job=second.pk), exports_dir)
    assert crashed.returncode == 7, crashed.stderr
    second.refresh_from_db()
    final = exports_dir / export_file_name(second, first.file_name.split("-lock")[0])
    assert second.status == ExportStatus.RUNNING and not second.file_name and not final.exists()
    visible = sorted(p.name for p in exports_dir.iterdir() if not p.name.startswith("."))
    assert visible == [first.file_name]  # only temporaries (hidden, named for the job) are left

    retried = run_in_process(RUN.format(at="2031-06-15 17:30Z", job=second.pk), exports_dir)
    assert retried.returncode == 0 and retried.stdout.strip() == "done", retried.stderr
    second.refresh_from_db()
    assert second.attempts == 2 and final.exists()
    assert package_bytes(first) == package_bytes(second)
    assert first.manifest_sha256 == second.manifest_sha256 and first.sha256 == second.sha256
    assert sorted(p.name for p in exports_dir.iterdir()) == sorted([first.file_name, second.file_name])
    assert ExportJob.objects.filter(status=ExportStatus.DONE).count() == 2
