"""The package frame: staging, the sink every part writes through, the manifest and the zip.

Each part writes its files into a staging folder (``PackageSink.open``), hashed and sized as
they are written. The zip is then assembled from the staging folder with its entries sorted by
path, each dated at the package's time (the lock's or the cut's) and deflated at a pinned level,
under a temporary name in the exports folder; only the finished zip is renamed to its final
name (``os.replace`` is atomic on one file system). A crash at any point leaves only temporary
files, which the next attempt of the same job removes first; the retry writes the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

import lxml
import pyarrow
from django.conf import settings

from ecrf.exports.sections import PackageContext

MANIFEST = "manifest.json"
COMPRESSION = zipfile.ZIP_DEFLATED
COMPRESS_LEVEL = 6
_CHUNK = 1 << 20


def exports_dir() -> Path:
    path = Path(settings.EXPORTS_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


class _HashingFile:
    """A binary stream that hashes and counts what passes through it."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw, self.sha, self.size = raw, hashlib.sha256(), 0

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self.sha.update(view)
        self.size += len(view)
        return self.raw.write(view)

    # What io.TextIOWrapper, csv, pyarrow and lxml ask of a writable stream.
    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    def flush(self) -> None:
        self.raw.flush()

    def tell(self) -> int:
        return self.size

    @property
    def closed(self) -> bool:
        return self.raw.closed

    def close(self) -> None:
        # The sink closes the file; a writer closing its stream early does no harm.
        self.raw.flush()


@dataclass
class FileEntry:
    path: str
    sha256: str
    size: int


@dataclass
class StagingSink:
    """``PackageSink`` over a staging folder: each path once, relative, inside the package."""

    root: Path
    files: dict[str, FileEntry] = field(default_factory=dict)

    @contextmanager
    def open(self, path: str) -> Iterator[BinaryIO]:
        clean = PurePosixPath(path)
        if clean.is_absolute() or ".." in clean.parts or str(clean) != path or path == MANIFEST or not path:
            raise ValueError(f"Package path {path!r} is not a plain relative path inside the package")
        if path in self.files:
            raise ValueError(f"Package file {path} is written twice")
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as raw:
            stream = _HashingFile(raw)
            yield stream  # type: ignore[misc]
        self.files[path] = FileEntry(path, stream.sha.hexdigest(), stream.size)


def software() -> dict[str, str]:
    """What the bytes depend on besides the data: recorded so a difference can be explained."""
    return {"ecrf": settings.SPECTACULAR_SETTINGS.get("VERSION", ""), "pyarrow": pyarrow.__version__,
            "lxml": lxml.__version__, "zlib": zlib.ZLIB_VERSION}


def manifest_bytes(ctx: PackageContext, *, study: dict[str, Any], files: dict[str, FileEntry],
                   row_counts: dict[str, int], extra: dict[str, Any]) -> bytes:
    doc = {
        "study": study,
        "source": {"kind": ctx.source, "id": ctx.source_id, "as_of": ctx.as_of.isoformat().replace("+00:00", "Z"),
                   "label": ctx.label},
        "blinded": ctx.blinded,
        "participants": len(ctx.participant_ids),
        "software": software(),
        "zip": {"compression": "deflate", "level": COMPRESS_LEVEL},
        "row_counts": dict(sorted(row_counts.items())),
        **extra,
        "files": [{"path": f.path, "sha256": f.sha256, "size": f.size} for f in sorted(files.values(), key=lambda f: f.path)],
    }
    return (json.dumps(doc, indent=2, sort_keys=False, ensure_ascii=False) + "\n").encode("utf-8")


def _zip_time(ctx: PackageContext) -> tuple[int, int, int, int, int, int]:
    t = ctx.as_of
    return (max(t.year, 1980), t.month, t.day, t.hour, t.minute, t.second - t.second % 2)


def zip_write(target: Path, staging: Path, names: list[str], ctx: PackageContext,
              on_file: Callable[[str], None] | None = None) -> None:
    """The zip of ``names`` (read from ``staging``) in sorted order, byte-stable."""
    stamp = _zip_time(ctx)
    with zipfile.ZipFile(target, "w", compression=COMPRESSION, compresslevel=COMPRESS_LEVEL, allowZip64=True) as zf:
        for name in sorted(names):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = COMPRESSION
            info.external_attr = 0o644 << 16
            info.create_system = 3
            with open(staging / name, "rb") as src, zf.open(info, "w", force_zip64=True) as dst:
                shutil.copyfileobj(src, dst, _CHUNK)
            if on_file:
                on_file(name)


def file_sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            sha.update(chunk)
    return sha.hexdigest()


def temp_prefix(job_id: int) -> str:
    return f".tmp-export-{job_id}-"


def clear_temporaries(job_id: int) -> None:
    """Remove what an earlier, crashed attempt of this job left behind."""
    for p in exports_dir().glob(temp_prefix(job_id) + "*"):
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
