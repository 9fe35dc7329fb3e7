"""The exports app's refusals, each with its own API ``code`` and HTTP status."""

from __future__ import annotations

from ecrf.core.errors import AppErrorCode


class ExportError(AppErrorCode):
    # 409: there is no active study lock (or no such data cut) to export from.
    NO_SOURCE = "export_no_source", 409
    # 409: unblinded packages exist only after the statistician's study unblinding (or as a closed cut).
    NOT_UNBLINDED = "export_not_unblinded", 409
    # 409: a closed (unblinded) cut is exported unblinded, an open cut blinded; the other kind was asked.
    CUT_KIND = "export_cut_kind", 409
    # 409: an export of the same source and kind is already queued or running.
    ALREADY_RUNNING = "export_already_running", 409
    # 409: the package is not finished (queued, running or failed): nothing to download.
    NOT_READY = "export_not_ready", 409
    # 409: the package file on disk does not match the hash recorded when it was written.
    TAMPERED = "export_tampered", 409
