"""The export URLs: export packages (API and pages) and data cuts.

ARCHITECTURE.md "Roles": the sponsor downloads locked exports; data managers, who lock, see the
blinded ones too; the statistician makes data cuts and the unblinded exports; the DSMB reads the
closed cuts. Site staff and every other role cannot export (403). A package of the study lock is
not visible to the DSMB (404: the same answer as for a missing one).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.test import override_settings
from django.utils import timezone

from ecrf.accounts.services import user_create
from ecrf.exports.models import ExportJob, ExportStatus
from ecrf.exports.package import exports_dir
from ecrf.review.services import scope_lock, scope_unlock
from tests.conftest import PASSWORD
from tests.permissions.matrix import Check, Fixtures, api, check, pk_of

LOCK_READERS = {"sponsor": 200, "data_manager": 200, "statistician": 200}
# With no active study lock, a request by a role that may export is refused as a state (409).
NO_LOCK = {"sponsor": 409, "data_manager": 409, "statistician": 409}
PAYLOAD = b"matrix package bytes\n"


def build(fx: Fixtures) -> None:
    manager, _ = user_create(actor=None, username="matrix-exports-dm", roles=["data_manager"], site_codes=[],
                             password=PASSWORD)
    # A finished blinded package of a study lock that was released again (so the other apps'
    # checks run on an unlocked study).
    with override_settings(STUDY_LOCK_GATE_CONDITIONS=[]):
        lock = scope_lock(actor=manager, level="study", reason="Matrix lock")
    scope_unlock(actor=manager, scope=lock, reason="Matrix: reopened after the export")
    path = exports_dir() / "matrix-export.zip"
    path.write_bytes(PAYLOAD)
    job = ExportJob.objects.create(source="lock", lock=lock, blinded=True, status=ExportStatus.DONE, progress=100,
                                   requested_by=manager, file_name=path.name, size=len(PAYLOAD),
                                   sha256=hashlib.sha256(PAYLOAD).hexdigest(), manifest_sha256="0" * 64)
    fx.add("export_job", job, job)


def _cut(fx, where, user):  # noqa: ANN001, ANN202
    return {"label": "Matrix cut", "cutoff_at": (timezone.now() - timedelta(seconds=1)).isoformat(), "closed": True}


def _cut_page(fx, where, user):  # noqa: ANN001, ANN202
    # Now, to the second, in the zone the page reads it in (the study's, for the statistician):
    # after the fixtures' participants were made, and not in the future.
    import zoneinfo

    from ecrf.accounts.selectors import display_time_zone

    now = timezone.now().astimezone(zoneinfo.ZoneInfo(display_time_zone(user)))
    return {"label": "Matrix page cut", "cutoff_at": now.strftime("%Y-%m-%d %H:%M:%S")}


JOB = pk_of("export_job")

RULES: dict[str, dict[str, Check]] = {
    "exports-list": {"get": api({**LOCK_READERS, "dsmb": 200}, per_site=False),
                     "post": api(NO_LOCK, body=lambda fx, w, u: {"blinded": True}, per_site=False)},
    "exports-detail": {"get": api({**LOCK_READERS, "dsmb": 404}, kwargs=JOB, per_site=False)},
    "exports-download": {"get": api({**LOCK_READERS, "dsmb": 404}, kwargs=JOB, per_site=False)},
    # The matrix's package is blinded: the statistician is refused on its kind (409), the DSMB never sees it.
    "exports-analysis": {"get": api({"statistician": 409, "dsmb": 404}, kwargs=JOB, per_site=False)},
    # Only a failed package is retried: this one is done (409).
    "exports-retry": {"post": api({**NO_LOCK, "dsmb": 404}, kwargs=JOB, per_site=False)},
    "data-cuts-list": {"get": api({"statistician": 200, "dsmb": 200}, per_site=False),
                       "post": api({"statistician": 201}, body=_cut, per_site=False)},
    "exports:list": {"get": check({**LOCK_READERS, "dsmb": 200}, per_site=False),
                     "post": check(NO_LOCK, body=lambda fx, w, u: {"kind": "blinded"}, per_site=False)},
    "exports:detail": {"get": check({**LOCK_READERS, "dsmb": 404}, kwargs=JOB, per_site=False)},
    "exports:download": {"get": check({**LOCK_READERS, "dsmb": 404}, kwargs=JOB, per_site=False)},
    "exports:analysis": {"get": check({"statistician": 409, "dsmb": 404}, kwargs=JOB, per_site=False)},
    "exports:cuts": {"get": check({"statistician": 200, "dsmb": 200}, per_site=False),
                     "post": check({"statistician": 302}, body=_cut_page, per_site=False)},
}
