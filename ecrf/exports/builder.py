"""Writing one package: the export's own parts, then every registered section, then the
manifest and the zip (``ecrf.exports.package``). Reads only; the job row is updated by the
caller through ``progress``."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecrf.exports import odm, package, tables, unblinded
from ecrf.exports.sections import PackageContext, sections

ODM_FILE = "odm/clinical.xml"
Progress = Callable[[int, str], None]


@dataclass(frozen=True)
class Built:
    path: Path
    size: int
    sha256: str
    manifest_sha256: str
    odm_error: str  # '' when the ODM validated against the ODM 1.3.2 schema


def package_write(ctx: PackageContext, *, study: dict[str, Any], file_name: str, job_id: int,
                  all_participants: bool, progress: Progress) -> Built:
    """Write the package of ``ctx`` to ``<exports>/<file_name>``, atomically."""
    root = package.exports_dir()
    package.clear_temporaries(job_id)
    tmp = f"{package.temp_prefix(job_id)}{os.getpid()}"
    staging = root / tmp
    staging.mkdir()
    sink = package.StagingSink(staging)
    scope = None if all_participants else ctx.participant_ids
    dsets = unblinded.package_datasets(blinded=ctx.blinded)
    extra_sections = sections(blinded=ctx.blinded)
    total = len(dsets) * 2 + 4 + len(extra_sections) + (0 if ctx.blinded else 1)
    done = 0

    def step(what: str) -> None:
        nonlocal done
        progress(min(99, done * 100 // total), what)
        done += 1

    counts: dict[str, int] = {}
    for ds in dsets:
        step(f"crf/{ds.key}")
        counts[f"crf/{ds.key}"] = tables.write_dataset(ds, ctx, sink, scope)
    if not ctx.blinded:
        step("allocation")
        counts[unblinded.ALLOCATION_FILE] = unblinded.write_allocation(ctx, sink, scope)
    step("dictionary")
    tables.write_dictionary(dsets, sink)
    for ds in dsets:
        step(f"audit/history/{ds.key}")
        counts[f"audit/history/{ds.key}"] = tables.write_history(ds, ctx, sink, scope)
    step("audit/events")
    counts["audit/events"] = tables.write_events(ctx, sink)
    step("odm")
    with sink.open(ODM_FILE) as stream:
        stats = odm.write_odm(stream, ctx, study=study, dsets=dsets, participant_ids=scope)
    odm_error = odm.odm_validate(str(staging / ODM_FILE))
    for section in extra_sections:
        step(section.name)
        section.write(ctx, sink)
    step("zip")
    manifest = package.manifest_bytes(ctx, study=study, files=sink.files, row_counts=counts, extra={
        "odm": {"file": ODM_FILE, "odm_version": odm.ODM_VERSION, "schema_valid": odm_error == "", "subjects": stats.subjects,
                "forms": stats.forms, "items": stats.items, "audit_records": stats.audit_records,
                "signatures": stats.signatures},
        "sections": [s.name for s in extra_sections],
    })
    (staging / package.MANIFEST).write_bytes(manifest)
    zip_tmp = root / f"{tmp}.zip"
    package.zip_write(zip_tmp, staging, [*sink.files, package.MANIFEST], ctx)
    final = root / file_name
    os.replace(zip_tmp, final)  # atomic: the package appears whole or not at all
    shutil.rmtree(staging, ignore_errors=True)
    return Built(final, final.stat().st_size, package.file_sha256(final),
                 hashlib.sha256(manifest).hexdigest(), odm_error)
