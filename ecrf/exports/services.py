"""Every write of the exports app: data cuts, export requests, the job's run, downloads.

An export reads only (the package is cut from the history tables as of the lock's or the cut's
time); what it writes is the job row and, for each download, an event (who, which package,
which hashes: ARCHITECTURE.md "The locked export package": every download is audited).
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.conf import settings
from django.utils import timezone, translation

from ecrf.accounts.roles import require_role, user_roles
from ecrf.audit.models import EventKind
from ecrf.audit.services import event_record
from ecrf.core.errors import DomainError, forbidden, invalid
from ecrf.crf.models import LockScope, Participant
from ecrf.exports import builder, package, unblinded
from ecrf.exports.errors import ExportError
from ecrf.exports.models import ACTIVE_STATUSES, DataCut, ExportJob, ExportSource, ExportStatus
from ecrf.exports.sections import PackageContext
from ecrf.exports.selectors import (
    BLINDED_LOCK_ROLES,
    CUT_CREATE_ROLES,
    CUT_READ_ROLES,
    UNBLINDED_LOCK_ROLES,
    export_get,
)
from ecrf.exports.tables import latest_as_of
from ecrf.review.selectors import study_lock_current
from ecrf.screening.models import Consent, WithdrawalType
from ecrf.study.models import Study

logger = logging.getLogger(__name__)


# --- data cuts -------------------------------------------------------------------------------------

@transaction.atomic
def data_cut_create(*, actor: Any, label: str, cutoff_at: datetime, participant_ids: list[int] | None = None,
                    closed: bool = False) -> DataCut:
    """The statistician's frozen snapshot for an interim review: ``participant_ids`` None means
    every participant screened by the cut-off time. A closed cut is unblinded (DSMB)."""
    require_role(actor, CUT_CREATE_ROLES, "make a data cut (the statistician does)")
    label = (label or "").strip()
    errors: dict[str, str] = {}
    if not label:
        errors["label"] = "Give the cut a label, e.g. \"DSMB interim 1\"."
    if cutoff_at is None or timezone.is_naive(cutoff_at):
        errors["cutoff_at"] = "Give the cut-off as a date and time with its zone."
    elif cutoff_at > timezone.now():
        errors["cutoff_at"] = "The cut-off time is in the future: a cut freezes data that already exist."
    if errors:
        raise invalid("The data cut is incomplete.", **errors)
    existing = Participant.objects.filter(created_at__lte=cutoff_at)
    if participant_ids is None:
        ids = sorted(existing.values_list("pk", flat=True))
    else:
        ids = sorted(set(int(i) for i in participant_ids))
        unknown = set(ids) - set(existing.filter(pk__in=ids).values_list("pk", flat=True))
        if unknown:
            raise invalid("Some participants did not exist at the cut-off time.",
                          participant_ids=f"Unknown at the cut-off: {', '.join(map(str, sorted(unknown)))}.")
    if not ids:
        raise invalid("The cut holds no participant.", participant_ids="No participant existed at the cut-off time.")
    cut = DataCut(label=label, cutoff_at=cutoff_at, participant_ids=ids, closed=closed, created_by=actor)
    cut.full_clean()
    cut._history_user = actor
    cut._change_reason = f"Data cut {label}"
    cut.save()
    return cut


# --- requests ----------------------------------------------------------------------------------

def _refuse_running(*, lock: LockScope | None, cut: DataCut | None, blinded: bool) -> None:
    if ExportJob.objects.filter(lock=lock, cut=cut, blinded=blinded, status__in=ACTIVE_STATUSES).exists():
        what = "the study lock" if lock else "this data cut"
        raise DomainError(ExportError.ALREADY_RUNNING, f"An export of {what} ({'blinded' if blinded else 'unblinded'}) is "
                          "already queued or running; wait for it to finish (its page shows its progress).")


def export_request(*, actor: Any, blinded: bool = True, cut: DataCut | None = None) -> ExportJob:
    """Queue the package of the study lock (``cut`` None) or of a data cut; written by the task
    once this transaction commits."""
    if cut is None:
        require_role(actor, BLINDED_LOCK_ROLES if blinded else UNBLINDED_LOCK_ROLES,
                     "export the locked study" + ("" if blinded else " unblinded (the statistician does)"))
        lock = study_lock_current()
        if lock is None:
            raise DomainError(ExportError.NO_SOURCE, "The study is not locked: a locked export package starts from the "
                              "study lock (a data manager sets it); for an interim review make a data cut.")
        if not blinded and not unblinded.study_unblinded():
            raise DomainError(ExportError.NOT_UNBLINDED, "The study is not unblinded: an unblinded package exists only "
                              "after the statistician's study unblinding.")
    else:
        require_role(actor, CUT_CREATE_ROLES, "export a data cut (the statistician does)")
        lock = None
        # A closed cut is the DSMB's unblinded report; an open cut is blinded.
        if blinded == cut.closed:
            raise DomainError(ExportError.CUT_KIND, "A closed cut is exported unblinded and an open cut blinded: "
                              f"ask for {'an unblinded' if cut.closed else 'a blinded'} package of this cut.")
    try:
        with transaction.atomic():
            _refuse_running(lock=lock, cut=cut, blinded=blinded)
            job = ExportJob.objects.create(source=ExportSource.CUT if cut else ExportSource.LOCK, lock=lock, cut=cut,
                                           blinded=blinded, requested_by=actor)
            transaction.on_commit(lambda: _enqueue(job.pk))
    except IntegrityError:
        # Two requests at the same moment: the partial unique constraint let one through.
        _refuse_running(lock=lock, cut=cut, blinded=blinded)
        raise
    return job


def export_retry(*, actor: Any, job: ExportJob) -> ExportJob:
    """Queue a failed job again (the same bytes come out; a running or done job is left alone)."""
    job = export_get(actor, job.pk)
    require_role(actor, BLINDED_LOCK_ROLES | UNBLINDED_LOCK_ROLES | CUT_CREATE_ROLES, "retry an export")
    with transaction.atomic():
        locked = ExportJob.objects.select_for_update().get(pk=job.pk)
        if locked.status != ExportStatus.FAILED:
            raise DomainError(ExportError.ALREADY_RUNNING if locked.status in ACTIVE_STATUSES else ExportError.NOT_READY,
                              f"Only a failed export is retried; this one is {locked.get_status_display().lower()}.")
        _refuse_running(lock=locked.lock, cut=locked.cut, blinded=locked.blinded)
        locked.status, locked.progress, locked.step, locked.error = ExportStatus.QUEUED, 0, "", ""
        locked.save(update_fields=["status", "progress", "step", "error"])
        transaction.on_commit(lambda: _enqueue(locked.pk))
    return locked


def _enqueue(job_id: int) -> None:
    # deferred import: ecrf.exports.tasks imports this module (a task calls a service).
    from ecrf.exports.tasks import export_run

    export_run.delay(job_id)


# --- the job -------------------------------------------------------------------------------------

def _study_as_of(as_of: datetime) -> dict[str, Any]:
    study = Study.objects.current()
    if study is None:
        return {"code": "STUDY", "title": ""}
    for rows in latest_as_of(Study.history.model, as_of, {"id": study.pk}, ("code", "title")):
        return {"code": rows[0]["code"], "title": rows[0]["title"]}
    return {"code": study.code, "title": study.title}


def _data_use_withdrawn(as_of: datetime) -> set[int]:
    """Participants who withdrew consent to the use of data already collected, by ``as_of``
    (recorded only where the protocol allows it: ``Protocol.allow_withdrawal_of_collected_data``).
    Their data stay in the database (never deleted) and leave every package cut after it."""
    out: set[int] = set()
    for rows in latest_as_of(Consent.history.model, as_of, {"withdrawal_type": WithdrawalType.DATA_USE},
                             ("participant_id", "withdrawal_type")):
        out.update(r["participant_id"] for r in rows if r["withdrawal_type"] == WithdrawalType.DATA_USE)
    return out


def export_context(job: ExportJob) -> tuple[PackageContext, bool]:
    """The package's source, time and participants; True when it holds every participant."""
    if job.source == ExportSource.LOCK:
        lock = job.lock
        as_of, source, label = lock.set_at, "lock", lock.reason or "Study lock"
        hist = Participant.history.model
        candidates = set(hist.objects.filter(history_date__lte=as_of).values_list("id", flat=True))
    else:
        cut = job.cut
        as_of, source, label = cut.cutoff_at, "cut", cut.label
        candidates = set(cut.participant_ids)
    withdrawn = _data_use_withdrawn(as_of)
    ids = tuple(sorted(candidates - withdrawn))
    everyone = source == "lock" and not (withdrawn & candidates)
    return PackageContext(source=source, source_id=job.source_id, as_of=as_of, blinded=job.blinded, participant_ids=ids,
                          label=label), everyone


def export_file_name(job: ExportJob, study_code: str) -> str:
    return f"{study_code}-{job.source}{job.source_id}-{job.kind_label}-export{job.pk}.zip"


def export_job_run(*, job_id: int) -> ExportJob:
    """Write the job's package. Idempotent: a done job is returned as it is; a queued, failed or
    crashed (left running) job is written from the start.

    The package is written in the project's language (``settings.LANGUAGE_CODE``), whatever the
    language active where the job runs (a page's, a worker's after another task): its labels
    are part of its bytes, which the same lock always gives."""
    with translation.override(settings.LANGUAGE_CODE):
        return _export_job_run(job_id)


def _export_job_run(job_id: int) -> ExportJob:
    with transaction.atomic():
        job = ExportJob.objects.select_for_update(of=("self",)).select_related("lock", "cut").get(pk=job_id)
        if job.status == ExportStatus.DONE:
            return job
        job.status, job.started_at, job.progress, job.error = ExportStatus.RUNNING, timezone.now(), 0, ""
        job.attempts += 1
        job.save(update_fields=["status", "started_at", "progress", "error", "attempts"])
    ctx, everyone = export_context(job)
    study = _study_as_of(ctx.as_of)
    file_name = export_file_name(job, study["code"])

    def progress(percent: int, what: str) -> None:
        # Progress is not clinical data: a plain update, outside any transaction, seen at once.
        ExportJob.objects.filter(pk=job.pk).update(progress=percent, step=what[:200])

    try:
        built = builder.package_write(ctx, study=study, file_name=file_name, job_id=job.pk, all_participants=everyone,
                                      progress=progress)
    except Exception as exc:
        logger.exception("export %s failed", job.pk)
        job.status, job.error, job.finished_at = ExportStatus.FAILED, f"{type(exc).__name__}: {exc}"[:2000], timezone.now()
        job.save(update_fields=["status", "error", "finished_at"])
        package.clear_temporaries(job.pk)
        return job
    job.status, job.progress, job.step, job.finished_at = ExportStatus.DONE, 100, "", timezone.now()
    job.file_name, job.size, job.sha256, job.manifest_sha256 = file_name, built.size, built.sha256, built.manifest_sha256
    job.odm_valid, job.odm_validation = built.odm_error == "", built.odm_error[:2000]
    job.save(update_fields=["status", "progress", "step", "finished_at", "file_name", "size", "sha256", "manifest_sha256",
                            "odm_valid", "odm_validation"])
    return job


# --- downloads -----------------------------------------------------------------------------------

def _may_download(actor: Any, job: ExportJob) -> bool:
    roles = user_roles(actor)
    if job.source == ExportSource.CUT:
        return bool(roles & CUT_READ_ROLES)
    return bool(roles & (BLINDED_LOCK_ROLES if job.blinded else UNBLINDED_LOCK_ROLES))


def export_download(*, actor: Any, job: ExportJob, request: HttpRequest | None = None) -> Path:
    """The finished package's file, after recording the download (who, which hashes)."""
    job = export_get(actor, job.pk)
    if not _may_download(actor, job):
        raise forbidden("Your role may not download this package.")
    if job.status != ExportStatus.DONE:
        raise DomainError(ExportError.NOT_READY, f"The package is not ready ({job.get_status_display().lower()}).")
    path = package.exports_dir() / job.file_name
    if not path.exists() or path.stat().st_size != job.size or package.file_sha256(path) != job.sha256:
        raise DomainError(ExportError.TAMPERED, "The package file differs from the one written (its SHA-256 does not "
                          "match the record); export it again and report this to the data manager.")
    with transaction.atomic():
        event_record(kind=EventKind.DOWNLOAD, actor=actor, request=request, obj=job, file=job.file_name,
                     sha256=job.sha256, manifest_sha256=job.manifest_sha256, source=job.source, source_id=job.source_id,
                     blinded=job.blinded)
    return path
