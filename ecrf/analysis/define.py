"""Define-XML 2.1 (and its HTML rendering) for the SDTM or ADaM datasets of a package. No Django.

One define.xml per standard, beside its datasets (``sdtm/define.xml``, ``adam/define.xml``), as
submissions carry them: each dataset is an ItemGroupDef with its def:leaf file reference and
def:Class, each variable an ItemDef with its origin (and, if derived, the MethodDef of how), each
controlled variable a CodeList with the values that occur. Built with lxml; the output is checked
against the Define-XML 2.1 schema in the tests. Same input, same bytes: the creation time is the
package's time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape

from lxml import etree

from ecrf.analysis import terminology as ct
from ecrf.analysis.xpt import Dataset, Variable

ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
DEF_NS = "http://www.cdisc.org/ns/def/v2.1"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"
NSMAP = {None: ODM_NS, "def": DEF_NS, "xlink": XLINK_NS}

# How each derived value is computed (MethodDef). Every ``Variable.method`` must be here.
METHODS: dict[str, tuple[str, str]] = {
    "USUBJID": ("Computation", "STUDYID, a hyphen, and SUBJID (the subject ID, or the screening number of a screen failure)."),
    "SEQ": ("Computation", "1, 2, ... per subject in the dataset's key order."),
    "RFSTDTC": ("Computation", "Date/time of randomization, site local time (study day 1 is its date)."),
    "RFENDTC": ("Computation", "Date/time of death if any, else the end-of-study date."),
    "RFXSTDTC": ("Computation", "Earliest start of a given administration of either study drug."),
    "RFXENDTC": ("Computation", "Latest start of a given administration of either study drug."),
    "ACTARM": ("Computation", "The planned arm when at least one dose was given; null otherwise (unblinded only)."),
    "ARMNRS": ("Computation", "SCREEN FAILURE if not randomized; BLINDED in a blinded package; ASSIGNED, NOT "
                              "TREATED if randomized without a dose."),
    "ECREFID": ("Computation", "Route and dose number of the administration, e.g. IV-001."),
    "ECENDTC": ("Computation", "Start of the administration plus its duration in minutes."),
    "DY": ("Computation", "Date minus the randomization date (site local), plus 1 on or after it; no day 0."),
    "EXTRT": ("Computation", "The product of the double-dummy table from the arm and the phenotype fixed at "
                             "randomization: active MALS anakinra IV + placebo SC; active immunoparalysis placebo IV + "
                             "interferon-gamma-1b SC; placebo arm placebo for both."),
    "MEDDRA": ("Computation", "MedDRA preferred term and primary system organ class of the coded lowest level term."),
    "AEREL": ("Computation", "RELATED if the causality to either study drug is certain, probable or possible."),
    "AEACN": ("Computation", "The action taken with both study drugs, or MULTIPLE when they differ (each in SUPPAE)."),
    "IE": ("Computation", "N for an inclusion criterion not met, Y for an exclusion criterion met."),
    "LBSTRES": ("Computation", "The original result times the unit's factor to the analyte's standard unit."),
    "LBNRIND": ("Computation", "LOW below the site's lower limit, HIGH above the upper limit, NORMAL otherwise."),
    "SOFA": ("Computation", "SOFA 1996 subscores from the day's worst raw values (missing components carried "
                            "forward from the last observed day), and their sum."),
    "RSDTC": ("Computation", "Randomization date plus (day - 1); day 1 covers the 24 h before randomization."),
    "RANDDT": ("Computation", "Date of randomization in the site's time zone."),
    "TRTSDT": ("Computation", "Date of the first given administration (DM.RFXSTDTC)."),
    "MITTFL": ("Computation", "Y if randomized and at least one dose of study drug was given (DM.RFXSTDTC)."),
    "EVALFL": ("Computation", "Y if a day-1 SOFA total exists (RS SOFATOT VISITNUM 1); otherwise not evaluable."),
    "DTHDT": ("Computation", "Date part of DM.DTHDTC."),
    "DXXSTAT": ("Computation", "DEAD if death on or before the day; else the vital status assessed on that day; "
                               "else UNKNOWN."),
    "TRT01P": ("Computation", "The randomized arm (unblinded packages only)."),
    "TRT01A": ("Computation", "The randomized arm when in the mITT population (unblinded packages only)."),
    "AVISIT": ("Computation", "The SOFA study day."),
    "ADT": ("Computation", "Randomization date plus (day - 1)."),
    "AVAL": ("Imputation", "SAP: from the day of death on every day counts 24 (DTYPE DEATH), day 1 excepted; any "
                           "other missing day carries the last observed day forward (DTYPE LOCF); mean and "
                           "response are day 1 - mean(days 2-9) (and 2-15), exact; computed by the SOFA app's "
                           "endpoint derivation."),
    "ABLFL": ("Computation", "Day 1 (the worst values of the 24 h before randomization) is the baseline."),
    "CHG": ("Computation", "AVAL - BASE."),
    "CRIT1FL": ("Computation", "Y if the response is greater than 1.4 (strict); N otherwise, including a participant "
                               "who is not evaluable (counted as a non-responder)."),
}
CODELIST_NAMES = {
    "SEX": "Sex", "AGEU": "Age Unit", "NY": "No Yes Response", "OUT": "Outcome of Event", "ACN": "Action Taken with Study Treatment",
    "ROUTE": "Route of Administration", "NRIND": "Reference Range Indicator", "ARMNRS": "Reason Arm Null",
    "LBTESTCD": "Laboratory Test Code", "RSTESTCD": "SOFA Test Code (sponsor-defined)", "AEREL": "Causality",
    "DSDECOD": "Standardized Disposition Term",
}


def _text(parent: etree._Element, tag: str, value: str) -> etree._Element:
    el = etree.SubElement(parent, f"{{{ODM_NS}}}{tag}")
    tt = etree.SubElement(el, f"{{{ODM_NS}}}TranslatedText")
    tt.set(f"{{{XML_NS}}}lang", "en")
    tt.text = value
    return el


def _data_type(var: Variable) -> str:
    return {"text": "text", "float": "float", "integer": "integer", "date": "integer"}[var.type]


def _length(dataset: Dataset, var: Variable) -> int:
    if var.numeric:
        return 8
    return max([1, *(len(str(v)) for v in dataset.column(var.name) if v is not None)])


def define_xml(datasets: Sequence[Dataset], *, standard: str, study_code: str, study_title: str,
               as_of: datetime, blinded: bool) -> bytes:
    is_adam = standard == "ADaMIG"
    stamp = as_of.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    root = etree.Element(f"{{{ODM_NS}}}ODM", nsmap=NSMAP)
    root.set("FileType", "Snapshot")
    root.set("FileOID", f"DEF.{study_code}.{standard}")
    root.set("ODMVersion", "1.3.2")
    root.set("CreationDateTime", stamp)
    root.set("Originator", "ecrf")
    root.set("SourceSystem", "ecrf")
    root.set(f"{{{DEF_NS}}}Context", "Submission")
    study = etree.SubElement(root, f"{{{ODM_NS}}}Study", OID=f"STDY.{study_code}")
    gv = etree.SubElement(study, f"{{{ODM_NS}}}GlobalVariables")
    etree.SubElement(gv, f"{{{ODM_NS}}}StudyName").text = study_code
    etree.SubElement(gv, f"{{{ODM_NS}}}StudyDescription").text = study_title or study_code
    etree.SubElement(gv, f"{{{ODM_NS}}}ProtocolName").text = study_code
    mdv = etree.SubElement(study, f"{{{ODM_NS}}}MetaDataVersion", OID=f"MDV.{study_code}.{standard}",
                           Name=f"{study_code} {standard} {'blinded' if blinded else 'unblinded'}")
    mdv.set(f"{{{DEF_NS}}}DefineVersion", "2.1.0")
    standards = etree.SubElement(mdv, f"{{{DEF_NS}}}Standards")
    etree.SubElement(standards, f"{{{DEF_NS}}}Standard", OID="STD.IG", Name=standard, Type="IG",
                     Version=ct.ADAMIG_VERSION if is_adam else ct.SDTMIG_VERSION, Status="Final")
    etree.SubElement(standards, f"{{{DEF_NS}}}Standard", OID="STD.CT", Name="CDISC/NCI", Type="CT",
                     PublishingSet="ADaM" if is_adam else "SDTM", Version=ct.CT_VERSION, Status="Final")

    items: list[tuple[Dataset, Variable]] = []
    codelists: dict[str, set[str]] = {}
    methods: set[str] = set()
    for dataset in datasets:
        leaf = f"LF.{dataset.name}"
        ig = etree.SubElement(mdv, f"{{{ODM_NS}}}ItemGroupDef", OID=f"IG.{dataset.name}", Name=dataset.name,
                              Repeating="No" if dataset.name in ("DM", "ADSL") else "Yes",
                              IsReferenceData="Yes" if dataset.name == "TS" else "No", SASDatasetName=dataset.name,
                              Purpose="Analysis" if is_adam else "Tabulation")
        if not is_adam and not dataset.name.startswith("SUPP"):
            ig.set("Domain", dataset.name)
        ig.set(f"{{{DEF_NS}}}Structure", dataset.structure or "One record per row")
        ig.set(f"{{{DEF_NS}}}StandardOID", "STD.IG")
        ig.set(f"{{{DEF_NS}}}ArchiveLocationID", leaf)
        if not dataset.rows:
            ig.set(f"{{{DEF_NS}}}HasNoData", "Yes")
        _text(ig, "Description", dataset.label)
        for order, var in enumerate(dataset.variables, start=1):
            ref = etree.SubElement(ig, f"{{{ODM_NS}}}ItemRef", ItemOID=f"IT.{dataset.name}.{var.name}",
                                   OrderNumber=str(order),
                                   Mandatory="Yes" if var.name in ("STUDYID", "USUBJID", "DOMAIN") else "No")
            if var.name in dataset.keys:
                ref.set("KeySequence", str(dataset.keys.index(var.name) + 1))
            if var.method:
                ref.set("MethodOID", f"MT.{var.method}")
                methods.add(var.method)
            items.append((dataset, var))
        etree.SubElement(ig, f"{{{DEF_NS}}}Class", Name=dataset.klass or "FINDINGS")
        lf = etree.SubElement(ig, f"{{{DEF_NS}}}leaf", ID=leaf)
        lf.set(f"{{{XLINK_NS}}}href", f"{dataset.name.lower()}.xpt")
        etree.SubElement(lf, f"{{{DEF_NS}}}title").text = f"{dataset.name.lower()}.xpt"

    for dataset, var in items:
        item = etree.SubElement(mdv, f"{{{ODM_NS}}}ItemDef", OID=f"IT.{dataset.name}.{var.name}", Name=var.name,
                                DataType=_data_type(var), Length=str(_length(dataset, var)), SASFieldName=var.name)
        if var.type == "date":
            item.set(f"{{{DEF_NS}}}DisplayFormat", "DATE9.")
        _text(item, "Description", var.label)
        if var.codelist:
            etree.SubElement(item, f"{{{ODM_NS}}}CodeListRef", CodeListOID=f"CL.{var.codelist}")
            values = codelists.setdefault(var.codelist, set())
            values.update(str(v) for v in dataset.column(var.name) if v is not None)
        origin = etree.SubElement(item, f"{{{DEF_NS}}}Origin", Type=var.origin)
        if var.origin == "Collected":
            origin.set("Source", "Investigator")
        elif var.origin == "Assigned":
            origin.set("Source", "Sponsor")

    for name in sorted(codelists):
        data_type, extensible, terms = ct.CODELISTS[name]
        cl = etree.SubElement(mdv, f"{{{ODM_NS}}}CodeList", OID=f"CL.{name}", Name=CODELIST_NAMES.get(name, name),
                              DataType=data_type)
        cl.set(f"{{{DEF_NS}}}StandardOID", "STD.CT")
        for value in sorted(set(terms) | codelists[name]):
            ei = etree.SubElement(cl, f"{{{ODM_NS}}}EnumeratedItem", CodedValue=value)
            if value not in terms:
                ei.set(f"{{{DEF_NS}}}ExtendedValue", "Yes")
    for name in sorted(methods):
        kind, description = METHODS[name]
        md = etree.SubElement(mdv, f"{{{ODM_NS}}}MethodDef", OID=f"MT.{name}", Name=name, Type=kind)
        _text(md, "Description", description)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def define_html(datasets: Sequence[Dataset], *, standard: str, study_code: str) -> bytes:
    """A readable rendering of the same metadata (what reviewers open beside define.xml)."""
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{escape(study_code)} {standard} "
             "define</title><style>body{font-family:sans-serif}table{border-collapse:collapse;margin-bottom:2em}"
             "td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left}</style></head><body>",
             f"<h1>{escape(study_code)}: {standard} datasets</h1><table><tr><th>Dataset</th><th>Description</th>"
             "<th>Class</th><th>Structure</th><th>Keys</th><th>Location</th></tr>"]
    for d in datasets:
        parts.append(f"<tr><td><a href='#{d.name}'>{d.name}</a></td><td>{escape(d.label)}</td><td>{escape(d.klass)}</td>"
                     f"<td>{escape(d.structure)}</td><td>{', '.join(d.keys)}</td>"
                     f"<td><a href='{d.name.lower()}.xpt'>{d.name.lower()}.xpt</a></td></tr>")
    parts.append("</table>")
    for d in datasets:
        parts.append(f"<h2 id='{d.name}'>{d.name}: {escape(d.label)}</h2><table><tr><th>Variable</th><th>Label</th>"
                     "<th>Type</th><th>Codelist</th><th>Origin</th><th>Derivation</th></tr>")
        for v in d.variables:
            method = escape(METHODS[v.method][1]) if v.method else ""
            parts.append(f"<tr><td>{v.name}</td><td>{escape(v.label)}</td><td>{v.type}</td><td>{v.codelist}</td>"
                         f"<td>{v.origin}</td><td>{method}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>\n")
    return "".join(parts).encode("utf-8")
