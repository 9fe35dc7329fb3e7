"""``odm/clinical.xml``: CDISC ODM 1.3.2, FileType Snapshot, written as a stream.

The study metadata (one casebook event, a FormDef / ItemGroupDef per form of the registry, an
ItemDef per entered or derived field and the entry status, code lists, units) and the admin data
(users, sites as locations, the signature meanings) are small and built whole; the clinical data
are written one participant at a time through lxml's incremental writer (``etree.xmlfile``), so
memory does not grow with the study. Each form carries the AuditRecord of its latest change as
of the package's time (who, when, where, why; the full trail is in ``audit/``) and its
investigator's Signature; a casebook signature goes on the SubjectData. Every timestamp comes
from the data or from the package's time (CreationDateTime and AsOfDateTime), never the clock.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from lxml import etree
from odmlib.schema_manager import get_schema_path

from ecrf.crf.datasets import Dataset
from ecrf.exports.sections import PackageContext
from ecrf.exports.tables import Column, columns_of, iso, latest_as_of, rows_as_of, text_value

NS = "http://www.cdisc.org/ns/odm/v1.3"
ODM_VERSION = "1.3.2"
MDV_OID = "MDV.1"
EVENT_OID = "SE.CASEBOOK"
SYSTEM_USER = "USR.0"
PARTICIPANT_PAGE = 500
_DATATYPES = {"int": "integer", "float": "float", "decimal": "float", "bool": "boolean", "date": "date",
              "datetime": "datetime", "text": "text", "json": "text"}
_STATUS_ITEMS = ("status", "status_reason", "version")
_AUDIT_FIELDS = ("history_id", "history_date", "history_user_id", "history_change_reason")
_OID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _el(parent: etree._Element | None, tag: str, text: str | None = None, **attrib: str) -> etree._Element:
    el = etree.Element(_q(tag), nsmap={None: NS}) if parent is None else etree.SubElement(parent, _q(tag))
    for k, v in attrib.items():
        el.set(k, v)
    if text is not None:
        el.text = text
    return el


def _translated(parent: etree._Element, tag: str, text: str) -> None:
    _el(_el(parent, tag), "TranslatedText", text).set("{http://www.w3.org/XML/1998/namespace}lang", "en")


def _oid(text: str) -> str:
    return _OID_UNSAFE.sub("_", text)


@dataclass(frozen=True)
class FormDef:
    ds: Dataset
    items: tuple[Column, ...]

    @property
    def oid(self) -> str:
        return f"F.{self.ds.key}"

    @property
    def group_oid(self) -> str:
        return f"IG.{self.ds.key}"

    def item_oid(self, col: Column) -> str:
        return f"IT.{self.ds.key}.{col.name}"

    def codelist_oid(self, col: Column) -> str:
        return f"CL.{self.ds.key}.{col.name}"


def form_defs(dsets: list[Dataset]) -> list[FormDef]:
    out = []
    for ds in dsets:
        if ds.spec is None:
            continue
        wanted = {ds.model._meta.get_field(n).attname for n in (*ds.spec.fields, *ds.spec.derived_fields)} | set(_STATUS_ITEMS)
        items = tuple(c for c in columns_of(ds) if not c.is_label and c.attname in wanted)
        out.append(FormDef(ds, items))
    return out


def _unit_oid(unit: str) -> str:
    return "MU." + _oid(unit)


def _study_element(ctx: PackageContext, study: dict[str, Any], forms: list[FormDef], study_oid: str) -> etree._Element:
    root = _el(None, "Study", OID=study_oid)
    gv = _el(root, "GlobalVariables")
    _el(gv, "StudyName", study["code"])
    _el(gv, "StudyDescription", study["title"])
    _el(gv, "ProtocolName", study["code"])
    units = sorted({c.unit for f in forms for c in f.items if c.unit and not c.unit.startswith("see ")})
    if units:
        basic = _el(root, "BasicDefinitions")
        for unit in units:
            mu = _el(basic, "MeasurementUnit", OID=_unit_oid(unit), Name=unit)
            _translated(mu, "Symbol", unit)
    mdv = _el(root, "MetaDataVersion", OID=MDV_OID, Name=f"{study['code']} CRF")
    _el(_el(mdv, "Protocol"), "StudyEventRef", StudyEventOID=EVENT_OID, Mandatory="Yes")
    event = _el(mdv, "StudyEventDef", OID=EVENT_OID, Name="Casebook", Repeating="No", Type="Unscheduled")
    for f in forms:
        _el(event, "FormRef", FormOID=f.oid, Mandatory="No")
    for f in forms:
        fd = _el(mdv, "FormDef", OID=f.oid, Name=f.ds.label, Repeating="Yes")
        _el(fd, "ItemGroupRef", ItemGroupOID=f.group_oid, Mandatory="Yes")
    for f in forms:
        ig = _el(mdv, "ItemGroupDef", OID=f.group_oid, Name=f.ds.label, Repeating="No")
        for c in f.items:
            _el(ig, "ItemRef", ItemOID=f.item_oid(c), Mandatory="No")
    for f in forms:
        for c in f.items:
            item = _el(mdv, "ItemDef", OID=f.item_oid(c), Name=c.name, DataType=_DATATYPES[c.kind])
            _translated(item, "Question", c.label)
            if c.unit and not c.unit.startswith("see "):
                _el(item, "MeasurementUnitRef", MeasurementUnitOID=_unit_oid(c.unit))
            if c.codes:
                _el(item, "CodeListRef", CodeListOID=f.codelist_oid(c))
    for f in forms:
        for c in f.items:
            if not c.codes:
                continue
            cl = _el(mdv, "CodeList", OID=f.codelist_oid(c), Name=c.label, DataType="text")
            for code, label in c.codes:
                _translated(_el(cl, "CodeListItem", CodedValue=code), "Decode", label)
    return root


def _admin_element(ctx: PackageContext, study_oid: str) -> etree._Element:
    user_model = apps.get_model("accounts", "User")
    site_model = apps.get_model("study", "Site")
    admin = _el(None, "AdminData", StudyOID=study_oid)
    system = _el(admin, "User", OID=SYSTEM_USER, UserType="Other")
    _el(system, "LoginName", "system")
    _el(system, "DisplayName", "System (background task)")
    for rows in latest_as_of(user_model.history.model, ctx.as_of, {}, ("username", "first_name", "last_name")):
        for u in rows:
            user = _el(admin, "User", OID=f"USR.{u['id']}")
            _el(user, "LoginName", u["username"])
            full = " ".join(x for x in (u["first_name"], u["last_name"]) if x) or u["username"]
            _el(user, "DisplayName", full)
    for rows in latest_as_of(site_model.history.model, ctx.as_of, {}, ("code", "name")):
        for s in rows:
            loc = _el(admin, "Location", OID=f"LOC.{_oid(s['code'])}", Name=s["name"], LocationType="Site")
            _el(loc, "MetaDataVersionRef", StudyOID=study_oid, MetaDataVersionOID=MDV_OID, EffectiveDate=ctx.as_of.date().isoformat())
    meaning = apps.get_model("review", "Signature")._meta.get_field("meaning")
    for code, text in meaning.flatchoices:
        sd = _el(admin, "SignatureDef", OID=f"SD.{code}", Methodology="Electronic")
        _el(sd, "Meaning", str(text))
        _el(sd, "LegalReason", "21 CFR Part 11 electronic signature, bound to the versions of the records it covers")
    return admin


def _user_ref(user_id: int | None) -> str:
    return SYSTEM_USER if user_id is None else f"USR.{user_id}"


def _signature(parent: etree._Element, sig: dict[str, Any], location: str) -> None:
    el = _el(parent, "Signature")
    _el(el, "UserRef", UserOID=_user_ref(sig["signer_id"]))
    _el(el, "LocationRef", LocationOID=location)
    _el(el, "SignatureRef", SignatureOID=f"SD.{sig['meaning']}")
    _el(el, "DateTimeStamp", iso(sig["signed_at"]))


def _audit(parent: etree._Element, row: dict[str, Any], location: str, source: str) -> None:
    el = _el(parent, "AuditRecord")
    _el(el, "UserRef", UserOID=_user_ref(row["history_user_id"]))
    _el(el, "LocationRef", LocationOID=location)
    _el(el, "DateTimeStamp", iso(row["history_date"]))
    if row["history_change_reason"]:
        _el(el, "ReasonForChange", row["history_change_reason"])
    _el(el, "SourceID", f"{source}:{row['history_id']}")


def _latest_signatures(signatures: Dataset, ctx: PackageContext, ids: tuple[int, ...]
                       ) -> tuple[dict[int, dict[str, Any]], dict[tuple[str, int], dict[str, Any]]]:
    """The latest casebook signature per participant and the latest form signature per form,
    as of the package's time (a signature is never changed; a later one supersedes it)."""
    casebook: dict[int, dict[str, Any]] = {}
    forms: dict[tuple[str, int], dict[str, Any]] = {}
    fields = ("participant_id", "level", "form_type_id", "form_id", "signer_id", "signed_at", "meaning")
    for rows in rows_as_of(signatures, ctx.as_of, ids, fields):
        for s in rows:
            if s["level"] == "casebook":
                casebook[s["participant_id"]] = s
            else:
                model = ContentType.objects.get_for_id(s["form_type_id"]).model_class()
                forms[(model._meta.label_lower, s["form_id"])] = s
    return casebook, forms


@dataclass
class OdmStats:
    subjects: int = 0
    forms: int = 0
    items: int = 0
    audit_records: int = 0
    signatures: int = 0


def _participant_pages(participants: Dataset, ctx: PackageContext, participant_ids: tuple[int, ...] | None
                       ) -> Iterator[list[dict[str, Any]]]:
    yield from rows_as_of(participants, ctx.as_of, participant_ids, ("subject_id", "screening_number", "site_id"),
                          page=PARTICIPANT_PAGE)


def write_odm(stream: BinaryIO, ctx: PackageContext, *, study: dict[str, Any], dsets: list[Dataset],
              participant_ids: tuple[int, ...] | None) -> OdmStats:
    by_key = {d.key: d for d in dsets}
    forms = form_defs(dsets)
    participants, signatures = by_key["crf.participant"], by_key["review.signature"]
    site_codes = {s["id"]: s["code"] for rows in latest_as_of(apps.get_model("study", "Site").history.model, ctx.as_of, {}, ("code",))
                  for s in rows}
    study_oid = f"ST.{_oid(study['code'])}"
    stats = OdmStats()
    stamp = iso(ctx.as_of)
    with etree.xmlfile(stream, encoding="UTF-8") as xf:
        xf.write_declaration()
        attrib = {"FileType": "Snapshot", "FileOID": _oid(f"ODM.{study['code']}.{ctx.source}{ctx.source_id}."
                                                           f"{'blinded' if ctx.blinded else 'unblinded'}"),
                  "CreationDateTime": stamp, "AsOfDateTime": stamp, "ODMVersion": ODM_VERSION,
                  "Originator": study["code"], "SourceSystem": "ecrf"}
        with xf.element(_q("ODM"), attrib, nsmap={None: NS}):
            xf.write(_study_element(ctx, study, forms, study_oid))
            xf.write(_admin_element(ctx, study_oid))
            with xf.element(_q("ClinicalData"), {"StudyOID": study_oid, "MetaDataVersionOID": MDV_OID}):
                for page in _participant_pages(participants, ctx, participant_ids):
                    ids = tuple(p["id"] for p in page)
                    casebook_sigs, form_sigs = _latest_signatures(signatures, ctx, ids)
                    entries: dict[int, list[tuple[FormDef, dict[str, Any]]]] = defaultdict(list)
                    for f in forms:
                        names = (*_AUDIT_FIELDS, "participant_id", *(c.attname for c in f.items))
                        for rows in rows_as_of(f.ds, ctx.as_of, ids, names):
                            for row in rows:
                                entries[row["participant_id"]].append((f, row))
                    for p in page:
                        xf.write(_subject(p, entries.get(p["id"], []), casebook_sigs.get(p["id"]), form_sigs,
                                          f"LOC.{_oid(site_codes.get(p['site_id'], str(p['site_id'])))}", stats))
                    xf.flush()
    return stats


def _subject(p: dict[str, Any], entries: list[tuple[FormDef, dict[str, Any]]], casebook_sig: dict[str, Any] | None,
             form_sigs: dict[tuple[str, int], dict[str, Any]], location: str, stats: OdmStats) -> etree._Element:
    subject = _el(None, "SubjectData", SubjectKey=p["subject_id"] or p["screening_number"])
    stats.subjects += 1
    if casebook_sig is not None:
        _signature(subject, casebook_sig, location)
        stats.signatures += 1
    _el(subject, "SiteRef", LocationOID=location)
    if entries:
        event = _el(subject, "StudyEventData", StudyEventOID=EVENT_OID)
        for f, row in entries:  # forms in registry order, each by ascending id
            form = _el(event, "FormData", FormOID=f.oid, FormRepeatKey=str(row["id"]))
            _audit(form, row, location, f.ds.key)
            stats.forms += 1
            stats.audit_records += 1
            sig = form_sigs.get((f.ds.key, row["id"]))
            if sig is not None:
                _signature(form, sig, location)
                stats.signatures += 1
            group = _el(form, "ItemGroupData", ItemGroupOID=f.group_oid)
            for c in f.items:
                value = text_value(row[c.attname])
                if value != "":
                    _el(group, "ItemData", ItemOID=f.item_oid(c), Value=value)
                    stats.items += 1
    return subject


def odm_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(get_schema_path("odm", "1.3.2")))


def odm_validate(path: str) -> str:
    """'' when the file validates against the ODM 1.3.2 schema, else the first error. Streams
    the file (``iterparse`` with the schema), clearing each subject once read."""
    try:
        for _, el in etree.iterparse(path, events=("end",), schema=odm_schema(), tag=_q("SubjectData")):
            el.clear()
    except etree.XMLSyntaxError as exc:
        return str(exc)
    return ""
