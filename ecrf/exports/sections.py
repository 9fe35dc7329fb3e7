"""The parts of a locked export package, declared by the app that writes them.

The export job knows the package's frame (the zip, the manifest, the temporary name and the
rename) and its own parts (``crf/``, ``odm/``, ``dictionary.csv``, ``audit/``); other parts, such
as the SDTM and ADaM datasets and the primary analysis, are written by the app that owns them and
registered here (``register_section`` from the app's ``ready()``), so this module names none of
them. A section writes its files through the sink it is given, in the order it chooses; the job
sorts nothing for it, so a section that must be reproducible to the byte writes its rows sorted
and takes every timestamp from ``PackageContext.as_of``, never from the clock.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, Protocol


@dataclass(frozen=True)
class PackageContext:
    """What one package is cut from: the same context always gives the same bytes."""

    source: str  # "lock" (a study lock) or "cut" (a data cut for the DSMB)
    source_id: int  # the LockScope or DataCut id
    as_of: datetime  # aware, UTC: the lock's or the cut's time; every timestamp comes from it
    blinded: bool  # True: no arm, allocation, preparation or unblinding record anywhere
    participant_ids: tuple[int, ...]  # the participants in the package, ascending
    label: str  # e.g. "Final database lock"


class PackageSink(Protocol):
    """Where a section writes: ``open("sdtm/dm.xpt")`` gives a binary stream for one file of the
    package; the job hashes it, sizes it and lists it in the manifest when the stream closes."""

    def open(self, path: str) -> AbstractContextManager[BinaryIO]: ...


SectionWriter = Callable[[PackageContext, PackageSink], None]


@dataclass(frozen=True)
class Section:
    name: str  # the package folder it writes, e.g. "sdtm"
    order: int  # sections are written in ascending order (a later one may read an earlier one)
    write: SectionWriter
    unblinded_only: bool = False  # written only into unblinded packages


_SECTIONS: dict[str, Section] = {}


def register_section(name: str, *, order: int, write: SectionWriter, unblinded_only: bool = False) -> Section:
    section = Section(name=name, order=order, write=write, unblinded_only=unblinded_only)
    existing = _SECTIONS.get(name)
    if existing is not None and existing.write is not write:
        raise ValueError(f"Package section {name!r} is already registered by {existing.write.__module__}")
    _SECTIONS[name] = section
    return section


def sections(*, blinded: bool) -> list[Section]:
    """The registered sections a package of this kind carries, in writing order."""
    return sorted((s for s in _SECTIONS.values() if not (blinded and s.unblinded_only)), key=lambda s: (s.order, s.name))
