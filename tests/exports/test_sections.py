"""The package-sections contract: the job calls every registered section with the package's
context and lists what it writes in the manifest; unblinded-only sections stay out of blinded
packages."""

from __future__ import annotations

import json

import pytest

from ecrf.accounts.roles import Role
from ecrf.exports import sections, tasks
from ecrf.exports.services import export_job_run, export_retry
from ecrf.randomization.unblinding import study_unblind
from tests.conftest import PASSWORD
from tests.exports.conftest import LOCK_AT, export_now, members, package_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def registered():
    seen = []

    def summary(ctx, sink):  # noqa: ANN001, ANN202
        seen.append(ctx)
        with sink.open("testsection/summary.csv") as f:
            f.write(f"participants,{len(ctx.participant_ids)}\nas_of,{ctx.as_of.isoformat()}\n".encode())

    def by_arm(ctx, sink):  # noqa: ANN001, ANN202
        with sink.open("testarm/by_arm.csv") as f:
            f.write(b"arm,n\n")

    sections.register_section("testsection", order=900, write=summary)
    sections.register_section("testarm", order=901, write=by_arm, unblinded_only=True)
    yield seen
    for name in ("testsection", "testarm"):
        sections._SECTIONS.pop(name)


def test_every_registered_section_is_written_hashed_and_listed(users, locked_study, registered):
    blinded = export_now(users[Role.SPONSOR])
    (ctx,) = registered
    assert ctx.source == "lock" and ctx.source_id == locked_study["lock"].pk and ctx.as_of == LOCK_AT and ctx.blinded
    assert ctx.participant_ids == tuple(sorted(p.pk for p in locked_study["participants"]))
    files = members(package_bytes(blinded))
    manifest = json.loads(files["manifest.json"])
    listed = {f["path"]: f for f in manifest["files"]}
    assert files["testsection/summary.csv"] == b"participants,2\nas_of,2026-03-30T08:00:00+00:00\n"
    assert listed["testsection/summary.csv"]["size"] == len(files["testsection/summary.csv"])
    # In writing order, after the sections the analysis app registers (SDTM, ADaM).
    assert "testarm/by_arm.csv" not in files and manifest["sections"][-1] == "testsection"
    assert "testarm" not in manifest["sections"]
    study_unblind(actor=users[Role.STATISTICIAN], reason="Final analysis", password=PASSWORD)
    unblinded = members(package_bytes(export_now(users[Role.STATISTICIAN], blinded=False)))
    assert unblinded["testarm/by_arm.csv"] == b"arm,n\n"
    assert json.loads(unblinded["manifest.json"])["sections"][-2:] == ["testsection", "testarm"]


def test_a_section_cannot_overwrite_the_package_frame_and_the_failed_job_is_retried(users, locked_study, exports_dir,
                                                                                     monkeypatch,
                                                                                     django_capture_on_commit_callbacks):
    def clobber(ctx, sink):  # noqa: ANN001, ANN202
        with sink.open("dictionary.csv") as f:
            f.write(b"x")

    sections.register_section("testclobber", order=902, write=clobber)
    try:
        job = export_now(users[Role.SPONSOR])
    finally:
        sections._SECTIONS.pop("testclobber")
    assert job.status == "failed" and "dictionary.csv is written twice" in job.error and not job.file_name
    assert list(exports_dir.iterdir()) == []  # nothing half-written is left, hidden or not
    queued = []
    monkeypatch.setattr(tasks.export_run, "delay", queued.append)
    with django_capture_on_commit_callbacks(execute=True):
        retried = export_retry(actor=users[Role.SPONSOR], job=job)
    assert retried.status == "queued" and queued == [job.pk]
    done = export_job_run(job_id=job.pk)
    assert done.status == "done" and done.attempts == 2 and (exports_dir / done.file_name).exists()
