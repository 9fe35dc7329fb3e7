"""The ADaM of a written package, read back from its XPT files (a zip or a folder). No Django.

The primary analysis of a package reads what the package holds, not the live tables: ADSL and
ADSOFA as the regulator would receive them.
"""

from __future__ import annotations

import math
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

ADAM_FILES = ("adam/adsl.xpt", "adam/adsofa.xpt")
SAFETY_FILES = ("sdtm/ae.xpt", "sdtm/suppae.xpt")


class PackageError(ValueError):
    pass


def _what(name: str) -> str:
    return "ADaM" if name.startswith("adam/") else "SDTM"


def _member(package: Path, name: str) -> bytes:
    if package.is_dir():
        path = package / name
        if not path.is_file():
            raise PackageError(f"{package} has no {name}: not a package with {_what(name)}.")
        return path.read_bytes()
    if not zipfile.is_zipfile(package):
        raise PackageError(f"{package} is neither a package zip nor a package folder.")
    with zipfile.ZipFile(package) as archive:
        names = {n.split("/", 1)[1] if n.count("/") > 1 else n: n for n in archive.namelist()}
        if name not in names:
            raise PackageError(f"{package} has no {name}: not a package with {_what(name)}.")
        return archive.read(names[name])


def _rows(data: bytes) -> list[dict[str, Any]]:
    # deferred import: pyreadstat (with pandas) loads in about a second; only reading a package's
    # XPT files back uses it, not every process that imports this module.
    import pyreadstat

    handle, path = tempfile.mkstemp(suffix=".xpt")
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(data)
        frame, _ = pyreadstat.read_xport(path)
    finally:
        os.unlink(path)
    out = []
    for record in frame.to_dict("records"):
        out.append({k: (None if (isinstance(v, float) and math.isnan(v)) or v == "" else v) for k, v in record.items()})
    return out


def read_adam(package: Path | str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(ADSL rows, ADSOFA rows) of a package."""
    path = Path(package)
    if not path.exists():
        raise PackageError(f"{path} does not exist.")
    adsl, adsofa = (_rows(_member(path, name)) for name in ADAM_FILES)
    return adsl, adsofa


Rows = list[dict[str, Any]]


def read_safety(package: Path | str) -> tuple[Rows, Rows, Rows]:
    """(ADSL rows, SDTM AE rows, SUPPAE rows) of a package: what the safety tables read."""
    path = Path(package)
    if not path.exists():
        raise PackageError(f"{path} does not exist.")
    adsl, ae, suppae = (_rows(_member(path, name)) for name in (ADAM_FILES[0], *SAFETY_FILES))
    return adsl, ae, suppae
