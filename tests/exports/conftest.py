"""A small locked study for the export tests: two randomized participants at site A, a test
form changed once with a reason, a casebook signature, and the study lock."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.db import connection
from django.test import override_settings

from ecrf.accounts.roles import Role
from ecrf.crf.services import form_create, form_update
from ecrf.exports.models import ExportJob
from ecrf.exports.services import export_job_run, export_request
from ecrf.randomization.unblinding import participant_emergency_unblind
from ecrf.review import selectors as review_selectors
from ecrf.review.services import scope_lock, signature_create
from ecrf.screening.models import Consent
from ecrf.screening.services import consent_withdraw
from ecrf.study.models import Study
from tests.conftest import PASSWORD
from tests.support import stages
from tests.testapp.specs import VITALS

T0 = dt.datetime(2026, 3, 10, 8, 0, tzinfo=dt.UTC)
LOCK_AT = T0 + dt.timedelta(days=20)


def build_locked_study(users, site, *, emergency_unblinding: bool = False, withdraw_data_use: bool = False) -> dict:  # noqa: ANN001
    coordinator, lab = users[Role.COORDINATOR], users[Role.LAB]
    p1 = stages.randomized(site, actor=coordinator, lab_user=lab, at=T0)
    p2 = stages.randomized(site, actor=coordinator, lab_user=lab, at=T0 + dt.timedelta(hours=3), phenotype="immunoparalysis")
    with stages.clock(T0 + dt.timedelta(days=1)):
        vitals = form_create(actor=coordinator, spec=VITALS, participant=p1, submit=True,
                             data={"measured_on": dt.date(2026, 3, 11), "temperature": "38.5", "heart_rate": 100})
    with stages.clock(T0 + dt.timedelta(days=2)):
        form_update(actor=coordinator, spec=VITALS, form=vitals, data={"heart_rate": 96}, version=vitals.version,
                    reason="Transcription error, source says 96")
    with stages.clock(T0 + dt.timedelta(days=3)):
        state = review_selectors.casebook_states([p1.pk])[p1.pk]
        signature_create(actor=users[Role.INVESTIGATOR], participant=p1, meaning="approve", password=PASSWORD,
                         expected=state.manifest_hash)
    if emergency_unblinding:
        with stages.clock(T0 + dt.timedelta(days=4)):
            participant_emergency_unblind(actor=users[Role.INVESTIGATOR], participant=p2, password=PASSWORD,
                                          reason="Anaphylaxis: treatment decision needs the arm")
    if withdraw_data_use:
        study = Study.objects.current()
        study.protocol_overrides = {"allow_withdrawal_of_collected_data": True}
        study.save()
        with stages.clock(T0 + dt.timedelta(days=5)):
            consent = Consent.objects.get(participant=p2)
            consent_withdraw(actor=coordinator, consent=consent, withdrawal_type="data_use", withdrawn_on=dt.date(2026, 3, 15),
                             version=consent.version, reason="The patient withdrew the use of the data")
    with stages.clock(LOCK_AT), override_settings(STUDY_LOCK_GATE_CONDITIONS=[]):
        lock = scope_lock(actor=users[Role.DATA_MANAGER], level="study", reason="Final database lock")
    return {"participants": [p1, p2], "lock": lock, "vitals": vitals}


@pytest.fixture
def exports_dir(tmp_path, settings) -> Path:
    settings.EXPORTS_DIR = str(tmp_path / "exports")
    return Path(settings.EXPORTS_DIR)


@pytest.fixture
def locked_study(users, site_a, exports_dir) -> dict:
    return build_locked_study(users, site_a)


def export_now(actor, *, blinded: bool = True, cut=None) -> ExportJob:  # noqa: ANN001
    """Request and write a package in this process (the task's body, without the broker)."""
    job = export_request(actor=actor, blinded=blinded, cut=cut)
    return export_job_run(job_id=job.pk)


def package_bytes(job: ExportJob) -> bytes:
    from ecrf.exports.package import exports_dir

    return (exports_dir() / job.file_name).read_bytes()


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "postgresql":
        return f"postgresql://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    return f"sqlite:///{s['NAME']}"


def run_in_process(script: str, exports: Path) -> subprocess.CompletedProcess:
    """Run ``script`` in a fresh Python process against the test database (Django set up)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_XDIST_WORKER"}
    env.update(DJANGO_SETTINGS_MODULE="ecrf.settings_test", DATABASE_URL=database_url(), EXPORTS_DIR=str(exports))
    prelude = "import django; django.setup()\n"
    return subprocess.run([sys.executable, "-c", prelude + script], env=env, capture_output=True, text=True, timeout=300,
                          cwd=str(Path(__file__).resolve().parents[2]))
