"""Every read of unblinded data the exports app makes, in one module, so that they are visible.

``ecrf.exports`` may read the randomization tables (it is outside the import-linter blinding
contract) only for unblinded packages, and only here: whether the statistician has unblinded
the study, which datasets an unblinded package adds, and the allocation table (each
participant's slot and arm as of the package's time). The job calls into this module only when
``PackageContext.blinded`` is False (ARCHITECTURE.md "The locked export package": unblinded
packages exist only after the study unblinding, or as a closed DSMB cut).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from ecrf.crf.datasets import Dataset, datasets
from ecrf.exports import tables
from ecrf.exports.sections import PackageContext, PackageSink
from ecrf.randomization.models import Assignment, Slot
from ecrf.randomization.unblinding import study_unblinded as _study_unblinded

ALLOCATION_FILE = "crf/randomization.allocation"
ALLOCATION_COLUMNS = ("participant_id", "stratum_key", "phenotype", "assigned_at", "slot_id", "sequence", "block",
                      "block_size", "arm", "arm_label")


def study_unblinded() -> bool:
    return _study_unblinded()


def package_datasets(*, blinded: bool) -> list[Dataset]:
    """The datasets a package carries: a blinded one leaves out every unblinded table."""
    return datasets(blinded=blinded)


_ALLOCATION_SCHEMA = pa.schema([("participant_id", pa.int64()), ("stratum_key", pa.string()), ("phenotype", pa.string()),
                                ("assigned_at", pa.timestamp("us", tz="UTC")), ("slot_id", pa.int64()),
                                ("sequence", pa.int64()), ("block", pa.int64()), ("block_size", pa.int64()),
                                ("arm", pa.string()), ("arm_label", pa.string())])


def write_allocation(ctx: PackageContext, sink: PackageSink, participant_ids: tuple[int, ...] | None) -> int:
    """``crf/randomization.allocation.csv`` and ``.parquet``: each participant's slot and arm
    (slots never change; the assignment is read as of the package's time), by assignment id."""
    assert not ctx.blinded, "the allocation is written into unblinded packages only"
    hist = Assignment.history.model
    scope = {} if participant_ids is None else {"participant_id__in": participant_ids}
    arm_labels = dict(Slot._meta.get_field("arm").flatchoices)
    count = 0
    with sink.open(f"{ALLOCATION_FILE}.csv") as stream, sink.open(f"{ALLOCATION_FILE}.parquet") as pq_stream:
        out = tables.CsvOut(stream, list(ALLOCATION_COLUMNS))
        writer = pq.ParquetWriter(pq_stream, _ALLOCATION_SCHEMA, compression=tables.PARQUET_COMPRESSION)
        for rows in tables.latest_as_of(hist, ctx.as_of, scope, ("participant_id", "stratum_key", "phenotype",
                                                                  "assigned_at", "slot_id")):
            slots = {s["id"]: s for s in Slot.objects.filter(pk__in=[r["slot_id"] for r in rows])
                     .values("id", "sequence", "block", "block_size", "arm")}
            records = [(r["participant_id"], r["stratum_key"], r["phenotype"], r["assigned_at"], r["slot_id"],
                        slots[r["slot_id"]]["sequence"], slots[r["slot_id"]]["block"], slots[r["slot_id"]]["block_size"],
                        slots[r["slot_id"]]["arm"], str(arm_labels.get(slots[r["slot_id"]]["arm"], ""))) for r in rows]
            out.rows([tables.text_value(v) for v in rec] for rec in records)
            columns = list(zip(*records, strict=True))
            writer.write_table(pa.table({f.name: pa.array(list(col), type=f.type)
                                         for f, col in zip(_ALLOCATION_SCHEMA, columns, strict=True)},
                                        schema=_ALLOCATION_SCHEMA))
            count += len(records)
        writer.close()
        out.close()
    return count
