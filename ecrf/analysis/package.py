"""The analysis app's sections of a locked export package: ``sdtm/``, ``adam/`` and ``analysis/``.

Registered from ``AnalysisConfig.ready()`` through ``ecrf.exports.sections``. Each section reads
the package's participants only (``PackageContext.participant_ids``), takes every timestamp from
``PackageContext.as_of`` (the XPT header dates too), and writes its files in name order, so that
one lock gives the same bytes on every run. A blinded package carries no arm anywhere: EX and the
arm variables are not written, and ``analysis/`` (which needs the arm) is unblinded only: the
primary analysis, the safety tables and their report (``report.html``, self-contained).
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

from ecrf.analysis import define, primary, report
from ecrf.analysis.adam import build_adam
from ecrf.analysis.safety_tables import safety_tables
from ecrf.analysis.sdtm import StudyData, build_sdtm
from ecrf.analysis.sources import study_data
from ecrf.analysis.xpt import Dataset, check_v5, csv_bytes, xpt_bytes
from ecrf.exports.sections import PackageContext, PackageSink


@lru_cache(maxsize=1)
def _built(ctx: PackageContext) -> tuple[StudyData, tuple[Dataset, ...], tuple[Dataset, ...]]:
    """The package's data and datasets, built once for the sections of one package (a context
    names one lock or cut, whose data no longer change) and freed by its last section."""
    data = study_data(participant_ids=ctx.participant_ids, as_of=ctx.as_of, blinded=ctx.blinded)
    sdtm = build_sdtm(data)
    adam = build_adam(data, sdtm)
    for dataset in (*sdtm, *adam):
        check_v5(dataset)  # refuse before the first file is written, not half-way through
    return data, tuple(sdtm), tuple(adam)


def _write_datasets(ctx: PackageContext, sink: PackageSink, folder: str, datasets: tuple[Dataset, ...],
                    standard: str) -> None:
    for dataset in datasets:
        name = dataset.name.lower()
        with sink.open(f"{folder}/{name}.xpt") as f:
            f.write(xpt_bytes(dataset, as_of=ctx.as_of))
        with sink.open(f"{folder}/{name}.csv") as f:
            f.write(csv_bytes(dataset))
    xml = define.define_xml(datasets, standard=standard, study_code=_built(ctx)[0].study_code,
                            study_title=_built(ctx)[0].study_title, as_of=ctx.as_of, blinded=ctx.blinded)
    with sink.open(f"{folder}/define.xml") as f:
        f.write(xml)
    with sink.open(f"{folder}/define.html") as f:
        f.write(define.define_html(datasets, standard=standard, study_code=_built(ctx)[0].study_code))


def write_sdtm(ctx: PackageContext, sink: PackageSink) -> None:
    _, sdtm, _ = _built(ctx)
    _write_datasets(ctx, sink, "sdtm", sdtm, "SDTMIG")


def write_adam(ctx: PackageContext, sink: PackageSink) -> None:
    _, _, adam = _built(ctx)
    try:
        _write_datasets(ctx, sink, "adam", adam, "ADaMIG")
    finally:
        if ctx.blinded:
            _built.cache_clear()  # the blinded package's last section: free its datasets


def report_title(ctx: PackageContext) -> str:
    """A closed cut's report is the DSMB's; the lock's unblinded package holds the final one."""
    return f"DSMB closed report, {ctx.label}" if ctx.source == "cut" else f"Final analysis and safety, {ctx.label}"


def write_analysis(ctx: PackageContext, sink: PackageSink) -> None:
    """The primary analysis and the safety tables, from the package's ADaM and SDTM (never from
    the live tables), and the report of both (``analysis/report.html``, the DSMB's on a cut)."""
    data, sdtm, adam = _built(ctx)
    _built.cache_clear()  # the unblinded package's last section: free its datasets
    adsl = next(d for d in adam if d.name == "ADSL")
    adsofa = next(d for d in adam if d.name == "ADSOFA")
    ae = next(d for d in sdtm if d.name == "AE")
    suppae = next(d for d in sdtm if d.name == "SUPPAE")
    result = primary.primary_analysis(adsl.rows, adsofa.rows, threshold=data.protocol.responder_threshold)
    safety = safety_tables(adsl.rows, ae.rows, suppae.rows)
    # The members the report is computed from, with the hashes the manifest lists for them (the
    # same bytes ``_write_datasets`` wrote: XPT output depends only on the dataset and the time).
    sources = [(f"{folder}/{d.name.lower()}.xpt", hashlib.sha256(xpt_bytes(d, as_of=ctx.as_of)).hexdigest())
               for folder, d in (("adam", adsl), ("sdtm", ae), ("sdtm", suppae))]
    with sink.open("analysis/primary.json") as f:
        f.write((json.dumps(result, indent=2, sort_keys=True) + "\n").encode())
    with sink.open("analysis/primary.csv") as f:
        f.write(report.primary_csv(result).encode())
    with sink.open("analysis/primary.html") as f:
        f.write(report.primary_html(result, study_code=data.study_code, as_of=ctx.as_of).encode())
    with sink.open("analysis/report.html") as f:
        f.write(report.dsmb_html(result, safety, study_code=data.study_code, title=report_title(ctx), as_of=ctx.as_of,
                                 sources=sources).encode())
    with sink.open("analysis/safety.json") as f:
        f.write((json.dumps(safety, indent=2, sort_keys=True) + "\n").encode())
