"""MedDRA: import a release from its ASCII distribution files; coding suggestions.

Distribution layout (``$``-separated, one record per line; MedDRA ASCII files):
soc.asc (code, name, abbrev, ...), hlgt.asc, hlt.asc (code, name, ...), pt.asc (code, name,
null, primary SOC code, ...), llt.asc (code, name, PT code, ..., currency Y/N in field 10),
and the links hlt_pt.asc, hlgt_hlt.asc, soc_hlgt.asc (parent, child). The licensed release
is never shipped: ``safety/meddra_demo`` is a dictionary of this project's own making in the
same layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Case, IntegerField, Q, Value, When

from ecrf.core.errors import invalid
from safety.models import MeddraLevel, MeddraLink, MeddraRelease, MeddraTerm

DEMO_DIR = Path(__file__).resolve().parent / "meddra_demo"
LEVEL_FILES = {MeddraLevel.SOC: "soc.asc", MeddraLevel.HLGT: "hlgt.asc", MeddraLevel.HLT: "hlt.asc",
               MeddraLevel.PT: "pt.asc", MeddraLevel.LLT: "llt.asc"}
LINK_FILES = {"hlt_pt.asc": (MeddraLevel.HLT, MeddraLevel.PT), "hlgt_hlt.asc": (MeddraLevel.HLGT, MeddraLevel.HLT),
              "soc_hlgt.asc": (MeddraLevel.SOC, MeddraLevel.HLGT)}


def _find(directory: Path, name: str) -> Path:
    for candidate in (directory / name, directory / name.upper()):
        if candidate.exists():
            return candidate
    raise invalid(f"{name} is missing from {directory}: give the MedAscii folder of a MedDRA release.", directory=f"{name} missing")


def _records(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line:
            out.append(line.split("$"))
    return out


def _int(value: str, path: Path, lineno: int) -> int:
    try:
        return int(value)
    except ValueError:
        raise invalid(f"{path.name} line {lineno}: {value!r} is not a MedDRA code.", directory="bad code") from None


@transaction.atomic
def meddra_import(*, directory: str | Path, is_demo: bool = False) -> MeddraRelease:
    """Replace the dictionary with the release in ``directory`` (all five levels, the
    multiaxial links and each PT's primary SOC), in one transaction."""
    directory = Path(directory)
    if not directory.is_dir():
        raise invalid(f"{directory} is not a folder.", directory="Not a folder.")
    terms: list[MeddraTerm] = []
    codes: dict[str, set[int]] = {}
    for level, name in LEVEL_FILES.items():
        path = _find(directory, name)
        seen: set[int] = set()
        for n, rec in enumerate(_records(path), start=1):
            code = _int(rec[0], path, n)
            term = MeddraTerm(level=level, code=code, name=rec[1].strip()[:200])
            if level == MeddraLevel.SOC and len(rec) > 2:
                term.abbrev = rec[2].strip()[:10]
            if level == MeddraLevel.PT and len(rec) > 3 and rec[3].strip():
                term.primary_soc_code = _int(rec[3], path, n)
            if level == MeddraLevel.LLT:
                term.pt_code = _int(rec[2], path, n)
                term.current = (rec[9].strip().upper() != "N") if len(rec) > 9 else True
            if code not in seen:
                seen.add(code)
                terms.append(term)
        codes[level] = seen
    links: list[MeddraLink] = []
    for name, (parent_level, child_level) in LINK_FILES.items():
        path = _find(directory, name)
        for n, rec in enumerate(_records(path), start=1):
            links.append(MeddraLink(parent_level=parent_level, parent_code=_int(rec[0], path, n),
                                    child_level=child_level, child_code=_int(rec[1], path, n)))
    # Referential checks: every LLT's PT and every PT's primary SOC exist.
    for term in terms:
        if term.level == MeddraLevel.LLT and term.pt_code not in codes[MeddraLevel.PT]:
            raise invalid(f"LLT {term.code} points at PT {term.pt_code}, which is not in pt.asc.", directory="Inconsistent release.")
        if term.level == MeddraLevel.PT and term.primary_soc_code not in codes[MeddraLevel.SOC]:
            raise invalid(f"PT {term.code} has primary SOC {term.primary_soc_code}, which is not in soc.asc.", directory="Inconsistent release.")
    version, language = "unknown", "English"
    release_file = directory / "meddra_release.asc"
    if release_file.exists():
        rec = _records(release_file)
        if rec:
            version = rec[0][0] or version
            language = (rec[0][1] if len(rec[0]) > 1 else "") or language
    MeddraLink.objects.all().delete()
    MeddraTerm.objects.all().delete()
    MeddraTerm.objects.bulk_create(terms, batch_size=2000)
    MeddraLink.objects.bulk_create(links, batch_size=2000, ignore_conflicts=True)
    counts = {str(level): len(codes[level]) for level in LEVEL_FILES} | {"links": len(links)}
    return MeddraRelease.objects.create(version=version, language=language, source=str(directory), is_demo=is_demo, counts=counts)


def ensure_demo_dictionary() -> None:
    if not MeddraTerm.objects.exists():
        meddra_import(directory=DEMO_DIR, is_demo=True)


@dataclass(frozen=True)
class Coding:
    llt_code: int
    llt_name: str
    current: bool
    pt_code: int
    pt_name: str
    soc_code: int | None
    soc_name: str


def coding_for(llt_code: int | None) -> Coding | None:
    """LLT -> PT -> primary SOC for one code (three indexed queries at most)."""
    if llt_code is None:
        return None
    llt = MeddraTerm.objects.filter(level=MeddraLevel.LLT, code=llt_code).first()
    if llt is None:
        return None
    pt = MeddraTerm.objects.filter(level=MeddraLevel.PT, code=llt.pt_code).first()
    soc = MeddraTerm.objects.filter(level=MeddraLevel.SOC, code=pt.primary_soc_code).first() if pt else None
    return Coding(llt.code, llt.name, llt.current, pt.code if pt else 0, pt.name if pt else "",
                  soc.code if soc else None, soc.name if soc else "")


def suggestions(query: str, limit: int = 20) -> list[Coding]:
    """Current LLTs whose name contains every word of ``query`` (starts-with first), with PT and
    primary SOC; a fixed three queries."""
    words = [w for w in (query or "").split() if w]
    if not words:
        return []
    cond = Q(level=MeddraLevel.LLT)
    for w in words:
        cond &= Q(name__icontains=w)
    llts = list(MeddraTerm.objects.filter(cond).annotate(
        starts=Case(When(name__istartswith=words[0], then=Value(0)), default=Value(1), output_field=IntegerField()))
        .order_by("-current", "starts", "name")[:limit])
    pts = {t.code: t for t in MeddraTerm.objects.filter(level=MeddraLevel.PT, code__in={t.pt_code for t in llts})}
    socs = {t.code: t for t in MeddraTerm.objects.filter(level=MeddraLevel.SOC,
                                                         code__in={p.primary_soc_code for p in pts.values()})}
    out = []
    for llt in llts:
        pt = pts.get(llt.pt_code)
        soc = socs.get(pt.primary_soc_code) if pt else None
        out.append(Coding(llt.code, llt.name, llt.current, llt.pt_code or 0, pt.name if pt else "",
                          soc.code if soc else None, soc.name if soc else ""))
    return out


def soc_paths(pt_code: int) -> list[dict[str, Any]]:
    """Every PT -> HLT -> HLGT -> SOC path (multiaxial), the primary one flagged."""
    pt = MeddraTerm.objects.filter(level=MeddraLevel.PT, code=pt_code).first()
    if pt is None:
        return []
    links = list(MeddraLink.objects.all().values_list("parent_level", "parent_code", "child_level", "child_code"))
    parents: dict[tuple[str, int], list[tuple[str, int]]] = {}
    for pl, pc, cl, cc in links:
        parents.setdefault((cl, cc), []).append((pl, pc))
    names = {(t.level, t.code): t.name for t in MeddraTerm.objects.exclude(level=MeddraLevel.LLT)}
    paths = []
    for hlt in parents.get((MeddraLevel.PT, pt_code), []):
        for hlgt in parents.get(hlt, []):
            for soc in parents.get(hlgt, []):
                paths.append({"hlt": names.get(hlt), "hlgt": names.get(hlgt), "soc": names.get(soc),
                              "soc_code": soc[1], "primary": soc[1] == pt.primary_soc_code})
    return paths
