"""The central lab's CSV file: validated row by row; accepted whole or refused whole.

Columns (header names, any order): ``site``, ``screening_number`` (required), and any of
``ferritin``, ``ferritin_unit`` (ng/mL or ug/L, which are equal; default ng/mL),
``ferritin_sampled_at``, ``ferritin_resulted_at``, ``hla_dr`` (receptors per monocyte),
``hla_dr_sampled_at``, ``hla_dr_resulted_at``. Times are ISO 8601; a time without an offset is
read in the site's time zone. A blank cell means "not reported in this file" (an earlier value
stays). Each row goes through the same services and rules as entry (consent before sampling,
plausible values, the outcome recomputed); a file with any bad row stores nothing and reports
every rejected row.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import zoneinfo
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ecrf.core.errors import DomainError
from ecrf.crf.models import EntryStatus, Participant
from ecrf.crf.services import form_create, form_update
from ecrf.screening.models import (
    CentralLabResult,
    FerritinUnit,
    ImportStatus,
    LabImport,
)
from ecrf.screening.services import require_lab_role
from ecrf.study.models import Site
from ecrf.study.services import current_protocol
from ecrf.screening.specs import CENTRAL_LAB

if TYPE_CHECKING:
    from ecrf.accounts.models import User

MAX_BYTES = 5 * 1024 * 1024
REQUIRED = ("site", "screening_number")
VALUE_COLUMNS = ("ferritin", "ferritin_unit", "ferritin_sampled_at", "ferritin_resulted_at", "hla_dr",
                 "hla_dr_sampled_at", "hla_dr_resulted_at")
_UNITS = {"ng/ml": FerritinUnit.NG_ML, "ug/l": FerritinUnit.UG_L, "µg/l": FerritinUnit.UG_L, "μg/l": FerritinUnit.UG_L,
          "mcg/l": FerritinUnit.UG_L}


class _Refused(Exception):
    pass


def _problem(row: int | None, number: str, *errors: str) -> dict[str, Any]:
    return {"row": row, "screening_number": number, "errors": list(errors)}


def _decimal(raw: str, label: str, errors: list[str]) -> Decimal | None:
    try:
        value = Decimal(raw.replace(",", ".") if raw.count(",") == 1 and "." not in raw else raw)
    except InvalidOperation:
        errors.append(f"{label} {raw!r} is not a number.")
        return None
    if not value.is_finite():
        errors.append(f"{label} {raw!r} is not a finite number.")
        return None
    return value


def _time(raw: str, label: str, zone: zoneinfo.ZoneInfo, errors: list[str]) -> dt.datetime | None:
    try:
        value = parse_datetime(raw.replace(" ", "T", 1) if "T" not in raw else raw)
    except ValueError:
        value = None
    if value is None:
        errors.append(f"{label} {raw!r} is not a date and time (YYYY-MM-DDTHH:MM, optionally with an offset).")
        return None
    if timezone.is_naive(value):
        value = value.replace(tzinfo=zone)
    return value


def parse_row(cells: dict[str, str], site: Site, errors: list[str]) -> dict[str, Any]:
    """The row's values as form data (only the reported ones); problems appended to ``errors``."""
    protocol = current_protocol()
    zone = zoneinfo.ZoneInfo(site.time_zone)
    data: dict[str, Any] = {}
    raw = {k: (cells.get(k) or "").strip() for k in VALUE_COLUMNS}
    if raw["ferritin"]:
        value = _decimal(raw["ferritin"], "ferritin", errors)
        if value is not None:
            if value < 0:
                errors.append(f"ferritin {raw['ferritin']} is negative.")
            elif value > protocol.ferritin_max_ng_ml:
                errors.append(f"ferritin {raw['ferritin']} is beyond any measurable value (limit {protocol.ferritin_max_ng_ml}).")
            elif value != value.quantize(Decimal("0.1")):
                errors.append(f"ferritin {raw['ferritin']} has more than one decimal.")
            else:
                data["ferritin"] = value
    if raw["ferritin_unit"]:
        unit = _UNITS.get(raw["ferritin_unit"].lower())
        if unit is None:
            errors.append(f"ferritin_unit {raw['ferritin_unit']!r} is not ng/mL or ug/L.")
        else:
            data["ferritin_unit"] = unit
    if raw["hla_dr"]:
        value = _decimal(raw["hla_dr"], "hla_dr", errors)
        if value is not None:
            if value < 0:
                errors.append(f"hla_dr {raw['hla_dr']} is negative.")
            elif value != value.to_integral_value():
                errors.append(f"hla_dr {raw['hla_dr']} is not a whole number of receptors.")
            elif value > protocol.hla_dr_max_per_cell:
                errors.append(f"hla_dr {raw['hla_dr']} is beyond any measurable value (limit {protocol.hla_dr_max_per_cell}).")
            else:
                data["hla_dr"] = int(value)
    for name in ("ferritin_sampled_at", "ferritin_resulted_at", "hla_dr_sampled_at", "hla_dr_resulted_at"):
        if raw[name]:
            value = _time(raw[name], name, zone, errors)
            if value is not None:
                data[name] = value
    return data


def _apply(actor: User, participant: Participant, data: dict[str, Any], reason: str) -> str:
    current = (CentralLabResult.objects.filter(participant=participant, status__in=(EntryStatus.DRAFT, EntryStatus.SUBMITTED))
               .order_by("-pk").first())
    if current is None:
        form_create(actor=actor, spec=CENTRAL_LAB, participant=participant, data=data, submit=True)
        return "created"
    before = current.version
    updated = form_update(actor=actor, spec=CENTRAL_LAB, form=current, data=data, version=current.version,
                          reason=reason, submit=True)
    return "updated" if updated.version != before else "unchanged"


def lab_import_csv(*, actor: User, filename: str, content: bytes) -> LabImport:
    """Validate and store the lab's file whole, or refuse it whole; the import is recorded either way."""
    require_lab_role(actor)
    filename = (filename or "upload.csv")[:200]
    sha = hashlib.sha256(content).hexdigest()
    problems: list[dict[str, Any]] = []
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    rows: list[tuple[int, str, Participant | None, dict[str, Any]]] = []
    if len(content) > MAX_BYTES:
        problems.append(_problem(None, "", f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB."))
    else:
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            problems.append(_problem(None, "", "The file is not UTF-8 text."))
        else:
            rows = _read_rows(text, problems)
    row_count = len(rows)
    if not problems:
        try:
            with transaction.atomic():
                reason = f"Central-lab import {filename} (sha256 {sha[:12]})"
                for line, number, participant, data in rows:
                    try:
                        with transaction.atomic():
                            counts[_apply(actor, participant, data, reason)] += 1  # type: ignore[arg-type]
                    except DomainError as exc:
                        detail = [f"{k}: {m}" for k, msgs in exc.fields.items() for m in msgs] or [exc.message]
                        problems.append(_problem(line, number, *detail))
                if problems:
                    raise _Refused
                return _record(actor, filename, sha, ImportStatus.ACCEPTED, row_count, counts, [])
        except _Refused:
            pass
    return _record(actor, filename, sha, ImportStatus.REFUSED, row_count, {"created": 0, "updated": 0, "unchanged": 0},
                   problems)


def _read_rows(text: str, problems: list[dict[str, Any]]) -> list[tuple[int, str, Participant | None, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    for cells in reader:
        if any(c.strip() for c in cells):
            header = [c.strip().lower() for c in cells]
            break
    if header is None:
        problems.append(_problem(None, "", "The file is empty."))
        return []
    missing = [c for c in REQUIRED if c not in header]
    unknown = sorted({c for c in header if c not in REQUIRED and c not in VALUE_COLUMNS})
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if missing:
        problems.append(_problem(1, "", f"Missing columns: {', '.join(missing)}."))
    if unknown:
        problems.append(_problem(1, "", f"Unknown columns: {', '.join(unknown)}."))
    if duplicated:
        problems.append(_problem(1, "", f"Duplicated columns: {', '.join(duplicated)}."))
    if problems:
        return []
    sites = {s.code: s for s in Site.objects.all()}
    rows: list[tuple[int, str, Participant | None, dict[str, Any]]] = []
    seen: dict[tuple[str, str], int] = {}
    keyed: list[tuple[int, dict[str, str]]] = []
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            problems.append(_problem(line, "", f"Expected {len(header)} fields, found {len(cells)}."))
            continue
        keyed.append((line, dict(zip(header, cells, strict=True))))
    wanted = {(c.get("site", "").strip(), c.get("screening_number", "").strip()) for _, c in keyed}
    participants = {(p.site.code, p.screening_number): p for p in Participant.objects.select_related("site").filter(
        screening_number__in={n for _, n in wanted}, site__code__in={s for s, _ in wanted})}
    for line, cells in keyed:
        errors: list[str] = []
        site_code, number = cells.get("site", "").strip(), cells.get("screening_number", "").strip()
        site = sites.get(site_code)
        participant = None
        if not site_code:
            errors.append("site is empty.")
        elif site is None:
            errors.append(f"Unknown site {site_code!r}.")
        if not number:
            errors.append("screening_number is empty.")
        elif site is not None:
            participant = participants.get((site_code, number))
            if participant is None:
                errors.append(f"Unknown screening number {number!r} at site {site_code}.")
        key = (site_code, number)
        if number and key in seen:
            errors.append(f"Screening number {number} at site {site_code} appears again (first on line {seen[key]}).")
        seen.setdefault(key, line)
        data = parse_row(cells, site, errors) if site is not None else {}
        if site is not None and not errors and not any(k in data for k in ("ferritin", "hla_dr", "ferritin_sampled_at", "hla_dr_sampled_at")):
            errors.append("The row reports neither ferritin nor HLA-DR.")
        if errors:
            problems.append(_problem(line, number, *errors))
        else:
            rows.append((line, number, participant, data))
    if not keyed and not problems:
        problems.append(_problem(None, "", "The file has no result rows."))
    return rows


def _record(actor: User, filename: str, sha: str, status: str, row_count: int, counts: dict[str, int],
            report: list[dict[str, Any]]) -> LabImport:
    record = LabImport(uploaded_by=actor, filename=filename, sha256=sha, status=status, row_count=row_count,
                       created_count=counts["created"], updated_count=counts["updated"],
                       unchanged_count=counts["unchanged"], report=report)
    record._history_user = actor
    record._change_reason = f"Central-lab import {status}"
    record.save()
    return record


def refusal_message(record: LabImport) -> str:
    rows = sorted({p["row"] for p in record.report if p.get("row") is not None})
    where = f" (rows {', '.join(str(r) for r in rows)})" if rows else ""
    return f"The file was refused whole{where}; nothing was stored. Correct the rejected rows and import the file again."
