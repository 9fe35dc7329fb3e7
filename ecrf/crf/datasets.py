"""The datasets registry: every table that holds participant data, found from the models
themselves rather than from a hand-kept list, so that exports, verification and locks cover a
new table the day it is added.

A table is participant data when it is audited (it has a hash-chained history, ARCHITECTURE.md
invariant 2: the clinical record) and either is the participant table or reaches it through
foreign keys (a form's ``participant``, an SAE report's ``adverse_event.participant``...). Tables
without a history are plumbing (queues, counters), not the record. The apps whose tables are
unblinded are named once here, the same two the import-linter blinding contract protects
(ARCHITECTURE.md "Blinding by construction"); a blinded reader skips their datasets.

``register_dataset`` lets an app add a table the discovery does not find (or give a better
label); ``datasets()`` answers for the running code, sorted by key.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.apps import apps
from django.db import models

from ecrf.audit.models import ChainedRecord
from ecrf.crf.models import Participant
from ecrf.crf.registry import FormSpec, spec_for_model

# ARCHITECTURE.md "Blinding by construction": allocation lists, assignments, unblinding records
# (randomization) and preparation records (pharmacy). Nothing else holds an arm.
UNBLINDED_APPS = frozenset({"randomization", "pharmacy"})
# Tables of other apps whose mere rows tell an arm (a row that exists only in the active arm):
# the owning app declares them with ``declare_unblinded_table`` when it is ready.
_UNBLINDED_TABLES: set[str] = set()
# How far a table may be from the participant table (form -> participant is 1; a submission ->
# its clock -> its adverse event -> participant is 3).
_MAX_DEPTH = 4


@dataclass(frozen=True)
class Dataset:
    key: str  # "<app_label>.<model_name>", e.g. "labs.labpanel"; also the file name in exports
    model: type[models.Model]
    # The ORM path from a row to its participant's id ("participant_id", "adverse_event__participant_id";
    # "id" for the participant table itself).
    participant_path: str
    unblinded: bool
    label: str
    spec: FormSpec | None  # the form declaration when the table is a CRF

    @property
    def history_model(self) -> type[models.Model]:
        return self.model.history.model  # type: ignore[attr-defined]


_EXTRA: dict[str, Dataset] = {}


def declare_unblinded_table(model: type[models.Model]) -> None:
    """Declare ``model`` unblinded although its app is not: a blinded reader (a blinded package,
    its event log) skips its dataset and every record about its rows."""
    _UNBLINDED_TABLES.add(model._meta.label_lower)
    datasets_cache_clear()


def unblinded_tables() -> frozenset[str]:
    """The tables declared with ``declare_unblinded_table`` (model labels, lower case)."""
    return frozenset(_UNBLINDED_TABLES)


def register_dataset(model: type[models.Model], *, participant_path: str, label: str = "") -> Dataset:
    """Declare a participant table the discovery cannot find (it must be audited)."""
    ds = _dataset(model, participant_path, label)
    _EXTRA[ds.key] = ds
    datasets_cache_clear()
    return ds


def _audited(model: type[models.Model]) -> bool:
    history = getattr(model, "history", None)
    return history is not None and issubclass(getattr(history, "model", object), ChainedRecord)


def _dataset(model: type[models.Model], path: str, label: str = "") -> Dataset:
    spec = spec_for_model(model)
    return Dataset(key=model._meta.label_lower, model=model, participant_path=path,
                   unblinded=(model._meta.app_label in UNBLINDED_APPS
                              or model._meta.label_lower in _UNBLINDED_TABLES),
                   label=label or (spec.label if spec else str(model._meta.verbose_name).capitalize()), spec=spec)


def _path_to_participant(model: type[models.Model], depth: int = 0) -> str | None:
    if model is Participant:
        return "id"
    if depth >= _MAX_DEPTH:
        return None
    # The direct link first, then the shortest chain; fields in declaration order (stable).
    fks = [f for f in model._meta.concrete_fields if isinstance(f, models.ForeignKey)]
    for f in fks:
        if f.related_model is Participant and f.name == "participant":
            return "participant_id"
    for f in fks:
        if f.related_model is Participant:
            return f.attname
    for f in fks:
        target = f.related_model
        if target is model or not _audited(target):
            continue
        rest = _path_to_participant(target, depth + 1)
        if rest is not None and rest != "id":
            return f"{f.name}__{rest}"
    return None


@lru_cache(maxsize=1)
def _discovered() -> tuple[Dataset, ...]:
    found: dict[str, Dataset] = {}
    for model in apps.get_models():
        if issubclass(model, ChainedRecord) or not _audited(model) or model._meta.app_label == "crf" and model is not Participant:
            # History tables themselves; unaudited plumbing; the freeze/lock scopes (crf's own
            # administration, not participant data).
            continue
        path = _path_to_participant(model)
        if path is not None:
            found[model._meta.label_lower] = _dataset(model, path)
    return tuple(found.values())


def datasets_cache_clear() -> None:
    _discovered.cache_clear()


def datasets(*, blinded: bool = False) -> list[Dataset]:
    """Every participant-data table, sorted by key; ``blinded=True`` leaves out the unblinded ones."""
    merged = {d.key: d for d in _discovered()}
    merged.update(_EXTRA)
    return sorted((d for d in merged.values() if not (blinded and d.unblinded)), key=lambda d: d.key)
