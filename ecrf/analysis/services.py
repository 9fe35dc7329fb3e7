"""The primary analysis and the safety tables of an unblinded export package, for the
statistician and the DSMB (on a closed cut: the DSMB's report).

``adam_analysis`` holds the rules every caller shares (the file is a package with ADaM, the ADaM
is unblinded and of this study, the protocol's responder threshold); the ``primary_analysis``
management command calls it on a path. ``package_analysis`` is the API action's and the page's
service: it checks who asks and the package itself before anything is read, and records that
unblinded results were viewed. Refusals name the reason and never carry a result.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from ecrf.accounts.roles import Role, user_roles
from ecrf.analysis.errors import AnalysisErrorCode
from ecrf.analysis.primary import AnalysisError, primary_analysis
from ecrf.analysis.reader import PackageError, read_adam, read_safety
from ecrf.analysis.safety_tables import safety_tables
from ecrf.audit.models import EventKind
from ecrf.audit.services import event_record
from ecrf.core.errors import DomainError, forbidden
from ecrf.exports import package
from ecrf.exports.errors import ExportError
from ecrf.exports.models import ExportJob, ExportStatus
from ecrf.exports.selectors import export_get
from ecrf.exports.verify import package_verify
from ecrf.study.models import Study
from ecrf.study.services import current_protocol

# Who sees unblinded results (ARCHITECTURE.md "Who may see what that is unblinded"): the
# statistician after the study unblinding, the DSMB on closed cuts; ``export_get`` scopes which packages.
ANALYSIS_ROLES = frozenset({Role.STATISTICIAN, Role.DSMB})
# What the event log says was done with the package (a DOWNLOAD event: the results left the server).
ANALYSIS_VIEW = "primary_analysis"


@dataclass(frozen=True)
class PackageAnalysis:
    job: ExportJob
    result: dict[str, Any]
    study_code: str
    package_sha256: str
    manifest_sha256: str
    as_of: datetime  # the lock's or the cut's time, as the package's manifest records it
    safety: dict[str, Any]  # ecrf.analysis.safety_tables.safety_tables of the package's ADSL, AE and SUPPAE


def adam_analysis(*, path: Path, name: str = "") -> tuple[dict[str, Any], str]:
    """(the primary analysis, the study code) of the package at ``path``. Messages name the file
    as ``name`` (the server's path stays out of them) when given."""
    try:
        adsl, adsofa = read_adam(path)
    except PackageError as exc:
        message = str(exc).replace(str(path), name) if name else str(exc)
        raise DomainError(AnalysisErrorCode.NOT_A_PACKAGE, message) from exc
    study = Study.objects.current()
    codes = {r["STUDYID"] for r in adsl}
    if study is not None and codes and codes != {study.code}:
        raise DomainError(AnalysisErrorCode.OTHER_STUDY,
                          f"This package is of study {', '.join(sorted(codes))}, not of {study.code}.")
    try:
        result = primary_analysis(adsl, adsofa, threshold=current_protocol().responder_threshold)
    except AnalysisError as exc:
        raise DomainError(AnalysisErrorCode.BLINDED, str(exc)) from exc
    return result, next(iter(codes), study.code if study is not None else "")


def package_safety(*, path: Path, name: str = "") -> dict[str, Any]:
    """The safety tables of the package at ``path``, from its own ADSL, AE and SUPPAE."""
    try:
        adsl, ae, suppae = read_safety(path)
    except PackageError as exc:
        message = str(exc).replace(str(path), name) if name else str(exc)
        raise DomainError(AnalysisErrorCode.NOT_A_PACKAGE, message) from exc
    return safety_tables(adsl, ae, suppae)


def _tampered(problem: str) -> DomainError:
    return DomainError(AnalysisErrorCode.TAMPERED, f"The package file fails its check ({problem}); nothing was read "
                       "from it. Export it again and report this to the data manager.")


def _manifest_as_of(path: Path) -> datetime:
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read(package.MANIFEST))
    return datetime.fromisoformat(manifest["source"]["as_of"].replace("Z", "+00:00"))


def package_analysis(*, actor: Any, job: ExportJob, request: HttpRequest | None = None) -> PackageAnalysis:
    """The primary analysis and the safety tables of a finished, unblinded package that this user
    may see, read from the package's own ADaM and SDTM after the package passed its check; the
    viewing is recorded."""
    job = export_get(actor, job.pk)  # the same 404 for missing and not visible
    if not user_roles(actor) & ANALYSIS_ROLES:
        raise forbidden("Only the statistician and the DSMB see the analysis of an unblinded package.")
    # Refused on the record alone, before the file is opened: a blinded package holds no arm.
    if job.blinded:
        raise DomainError(AnalysisErrorCode.BLINDED, "This package is blinded and has no arm, so there is nothing to "
                          "compare: ask for the unblinded package.")
    if job.status != ExportStatus.DONE:
        raise DomainError(ExportError.NOT_READY, f"The package is not ready ({job.get_status_display().lower()}).")
    path = package.exports_dir() / job.file_name
    verdict = package_verify(path)  # a member a changed byte made unreadable is one of its problems
    if not verdict.ok:
        raise _tampered(verdict.problems[0].replace(str(path), job.file_name))
    # The check above accepts any finished package of this source; this one must be the file written for this job.
    sha256 = package.file_sha256(path)
    if sha256 != job.sha256 or verdict.manifest_sha256 != job.manifest_sha256:
        raise _tampered(f"{job.file_name}: its SHA-256 does not match the one recorded when it was written")
    result, study_code = adam_analysis(path=path, name=job.file_name)
    safety = package_safety(path=path, name=job.file_name)
    as_of = _manifest_as_of(path)
    with transaction.atomic():
        event_record(kind=EventKind.DOWNLOAD, actor=actor, request=request, obj=job, view=ANALYSIS_VIEW,
                     file=job.file_name, sha256=sha256, manifest_sha256=job.manifest_sha256, source=job.source,
                     source_id=job.source_id, blinded=job.blinded)
    return PackageAnalysis(job=job, result=result, study_code=study_code, package_sha256=sha256,
                           manifest_sha256=job.manifest_sha256, as_of=as_of, safety=safety)
