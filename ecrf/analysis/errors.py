"""The analysis app's refusals, each with its own API ``code`` and HTTP status."""

from __future__ import annotations

from ecrf.core.errors import AppErrorCode


class AnalysisErrorCode(AppErrorCode):
    # 409: a blinded package carries no arm, so there is nothing to compare; the unblinded one is needed.
    BLINDED = "analysis_blinded", 409
    # 409: the package file fails its check (a file against the manifest, the manifest against the
    # database, the zip against its recorded SHA-256) or is missing: nothing is read from it.
    TAMPERED = "analysis_package_tampered", 409
    # 409: the file is not a package with ADaM (adam/adsl.xpt and adam/adsofa.xpt).
    NOT_A_PACKAGE = "analysis_not_a_package", 409
    # 409: the package's ADaM is of another study than the current one.
    OTHER_STUDY = "analysis_other_study", 409
