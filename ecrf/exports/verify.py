"""Checking a package file: every file against its manifest, the manifest against the hash the
database recorded when the package was written. Reads only."""

from __future__ import annotations

import hashlib
import json
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from ecrf.exports.models import ExportJob, ExportSource, ExportStatus
from ecrf.exports.package import MANIFEST


@dataclass
class Verdict:
    problems: list[str] = field(default_factory=list)
    files: int = 0
    manifest_sha256: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


def package_verify(path: Path) -> Verdict:
    verdict = Verdict()
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        verdict.problems.append(f"{path}: not a readable zip ({exc})")
        return verdict
    with zf:
        names = zf.namelist()
        if MANIFEST not in names:
            verdict.problems.append(f"{MANIFEST}: missing")
            return verdict
        raw = zf.read(MANIFEST)
        verdict.manifest_sha256 = hashlib.sha256(raw).hexdigest()
        try:
            manifest = json.loads(raw)
            listed = {f["path"]: f for f in manifest["files"]}
            source = manifest["source"]
        except (ValueError, KeyError, TypeError) as exc:
            verdict.problems.append(f"{MANIFEST}: not a package manifest ({exc})")
            return verdict
        for name in sorted(set(names) - set(listed) - {MANIFEST}):
            verdict.problems.append(f"{name}: in the package but not in the manifest")
        for name, entry in sorted(listed.items()):
            if name not in names:
                verdict.problems.append(f"{name}: listed in the manifest but missing from the package")
                continue
            sha, size = hashlib.sha256(), 0
            try:
                with zf.open(name) as f:
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        sha.update(chunk)
                        size += len(chunk)
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                # A changed byte inside a compressed member breaks its stream or its CRC.
                verdict.problems.append(f"{name}: cannot be read back from the zip, so it was changed ({exc})")
                continue
            verdict.files += 1
            if sha.hexdigest() != entry.get("sha256") or size != entry.get("size"):
                verdict.problems.append(f"{name}: differs from the manifest (SHA-256 {sha.hexdigest()}, "
                                        f"{size} bytes; the manifest says {entry.get('sha256')}, {entry.get('size')} bytes)")
    kind = source.get("kind")
    jobs = ExportJob.objects.filter(status=ExportStatus.DONE, blinded=manifest.get("blinded"),
                                    **({"lock_id": source.get("id")} if kind == ExportSource.LOCK else {"cut_id": source.get("id")}))
    recorded = set(jobs.values_list("manifest_sha256", flat=True))
    if not recorded:
        verdict.problems.append(f"{MANIFEST}: the database records no finished package of {kind} {source.get('id')} "
                                f"({'blinded' if manifest.get('blinded') else 'unblinded'})")
    elif verdict.manifest_sha256 not in recorded:
        verdict.problems.append(f"{MANIFEST}: differs from the manifest recorded in the database for {kind} "
                                f"{source.get('id')} (SHA-256 {verdict.manifest_sha256}; recorded {', '.join(sorted(recorded))})")
    return verdict
