"""The sdtm/, adam/ and analysis/ sections of a package, on one small trial built through the
services (tests/analysis/world.py): ADaM equals the SOFA app's own endpoints, study days match,
XPT files read back, Define-XML validates, the bytes repeat, and blinded output carries no arm."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import tempfile
from pathlib import Path

import odmlib
import pandas as pd
import pyreadstat
import pytest
import time_machine
from django.db import transaction
from lxml import etree

from ecrf.analysis.adam import SAS_EPOCH
from ecrf.analysis.report import comparison_cells, forest_groups, signal_rows, soc_rows
from ecrf.analysis.safety_tables import safety_tables
from ecrf.sofa.models import SofaEndpoint
from tests.analysis.conftest import write_package

pytestmark = pytest.mark.django_db

SCHEMA = Path(odmlib.__file__).parent / "schemas" / "define" / "2.1" / "define2-1-0.xsd"
ARM_WORDS = (b"Placebo", b"PLACEBO", b"Precision immunotherapy", b"ACTIVE", b"ANAKINRA", b"INTERFERON", b"TRT01")


@pytest.fixture(scope="module")
def unblinded(world, django_db_blocker):
    with django_db_blocker.unblock():
        return write_package(world.context(blinded=False))


@pytest.fixture(scope="module")
def closed_cut(world, django_db_blocker):
    with django_db_blocker.unblock():
        return write_package(world.context(blinded=False, source="cut"))


@pytest.fixture(scope="module")
def blinded(world, django_db_blocker):
    with django_db_blocker.unblock():
        return write_package(world.context(blinded=True))


def rows(sink, path: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(sink.files[path].decode())))


def header(sink, path: str) -> list[str]:
    return next(csv.reader(io.StringIO(sink.files[path].decode())))


def by(sink, path: str, key: str = "USUBJID") -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    for r in rows(sink, path):
        out.setdefault(r[key], []).append(r)
    return out


def usubjid(p) -> str:  # noqa: ANN001
    return f"ISEP-{p.subject_id or p.screening_number}"


def test_adsofa_equals_the_sofa_apps_endpoints(world, unblinded):
    adsofa = by(unblinded, "adam/adsofa.csv")
    randomized = [p for p in world.participants.values() if p.randomized_at]
    assert set(adsofa) == {usubjid(p) for p in randomized}
    for p in randomized:
        stored = SofaEndpoint.objects.get(participant=p)
        records = adsofa[usubjid(p)]
        response = next(r for r in records if r["PARAMCD"] == "SOFAR29")
        if stored.primary_response is None:
            assert response["AVAL"] == ""
        else:
            assert float(response["AVAL"]) == float(stored.primary_response)
        assert response["CRIT1FL"] == ("Y" if stored.responder else "N")
        assert response["EVALFL"] == ("Y" if stored.evaluable else "N")
        assert response["MITTFL"] == ("Y" if stored.mitt else "N")
        daily = {int(r["AVISITN"]): r for r in records if r["PARAMCD"] == "SOFA"}
        for day in stored.filled_series:
            if day["score"] is None:
                assert day["day"] not in daily
                continue
            record = daily[day["day"]]
            assert float(record["AVAL"]) == day["score"]
            assert record["DTYPE"] == {"observed": "", "locf": "LOCF", "death": "DEATH"}[day["source"]]


def test_primary_responder_flag_per_participant(world, unblinded):
    response = {k: next(r for r in v if r["PARAMCD"] == "SOFAR29") for k, v in by(unblinded, "adam/adsofa.csv").items()}
    got = {key: (response[usubjid(p)]["CRIT1FL"], response[usubjid(p)]["AVALC"], response[usubjid(p)]["AVAL"])
           for key, p in world.participants.items() if p.randomized_at}
    assert got == {
        "p1": ("Y", "RESPONDER", "3.25"),  # 10 - (8+8+7+7+6+6+6+6)/8
        "p2": ("N", "NON-RESPONDER", "0.75"),  # 8 - (8+8+7*6)/8: day 3 and days 5-9 carried forward
        "p3": ("N", "NON-RESPONDER", "-11.25"),  # 9 - (9+9+24*6)/8: dead on day 4
        "p4": ("N", "NOT EVALUABLE", ""),  # no day-1 SOFA
        "p5": ("N", "NON-RESPONDER", "0"),  # 7 carried forward (and outside the mITT)
    }
    adsl = {r["USUBJID"]: r for r in rows(unblinded, "adam/adsl.csv")}
    p4, p5 = usubjid(world.participants["p4"]), usubjid(world.participants["p5"])
    assert (adsl[p4]["EVALFL"], adsl[p4]["EVALRS"]) == ("N", "NO DAY-1 SOFA")
    assert (adsl[p5]["MITTFL"], adsl[p5]["MITTRS"]) == ("N", "NO DOSE OF STUDY DRUG")
    p3 = adsl[usubjid(world.participants["p3"])]
    assert (p3["DTHFL"], p3["DTHDY"], p3["D28STAT"], p3["D28DTHFL"]) == ("Y", "4", "DEAD", "Y")
    assert adsl[usubjid(world.participants["p1"])]["D28STAT"] == "ALIVE"
    assert usubjid(world.participants["p6"]) not in adsl  # the screen failure is not in ADSL


def test_dates_are_site_local_and_study_days_match(world, unblinded):
    p1 = world.participants["p1"]
    dm = {r["USUBJID"]: r for r in rows(unblinded, "sdtm/dm.csv")}[usubjid(p1)]
    assert dm["RFSTDTC"] == "2025-03-10T10:00"  # Athens time, as the site entered it (08:00 UTC)
    assert dm["RFXSTDTC"] == "2025-03-10T10:15" and dm["COUNTRY"] == "GRC" and dm["SEX"] == "F"
    rs = [r for r in by(unblinded, "sdtm/rs.csv")[usubjid(p1)] if r["RSTESTCD"] == "SOFATOT"]
    assert [(r["VISITNUM"], r["RSDY"], r["RSDTC"]) for r in rs][:2] == [("1", "1", "2025-03-10"), ("2", "2", "2025-03-11")]
    assert [int(r["RSSEQ"]) for r in by(unblinded, "sdtm/rs.csv")[usubjid(p1)]] == list(range(1, 9 * 7 + 1))
    ae = by(unblinded, "sdtm/ae.csv")[usubjid(p1)][0]
    assert (ae["AESTDTC"], ae["AESTDY"], ae["AESER"], ae["AEREL"], ae["AEACN"]) == (
        "2025-03-12", "3", "Y", "RELATED", "MULTIPLE")
    supp = {r["QNAM"]: r["QVAL"] for r in by(unblinded, "sdtm/suppae.csv")[usubjid(p1)]}
    assert supp["AERELIV"] == "POSSIBLE" and supp["AERELSC"] == "UNLIKELY" and supp["AESIANEM"] == "Y"
    assert supp["AEACNSC"] == "DRUG INTERRUPTED" and supp["AEHBNAD"] == "7.9"
    hgb = next(r for r in by(unblinded, "sdtm/lb.csv")[usubjid(p1)] if r["LBTESTCD"] == "HGB")
    assert (hgb["LBORRES"], hgb["LBORRESU"], hgb["LBSTRESN"], hgb["LBSTRESU"], hgb["LBNRIND"], hgb["LBDY"]) == (
        "79", "g/L", "7.9", "g/dL", "LOW", "2")
    adsl = {r["USUBJID"]: r for r in rows(unblinded, "adam/adsl.csv")}[usubjid(p1)]
    assert SAS_EPOCH + dt.timedelta(days=int(adsl["RANDDT"])) == dt.date(2025, 3, 10)


def test_every_xpt_reads_back_like_its_csv(unblinded):
    xpts = [p for p in unblinded.files if p.endswith(".xpt")]
    assert {Path(p).stem for p in xpts} >= {"dm", "ts", "ie", "ds", "ae", "suppae", "cm", "lb", "rs", "mh", "ec", "ex",
                                            "dv", "ce", "adsl", "adsofa"}
    for path in xpts:
        with tempfile.NamedTemporaryFile(suffix=".xpt") as f:
            f.write(unblinded.files[path])
            f.flush()
            table = rows(unblinded, path.replace(".xpt", ".csv"))
            # pandas' XPORT reader stops on a dataset without rows; pyreadstat reads it.
            frame = pd.read_sas(f.name, format="xport", encoding="ascii") if table else pyreadstat.read_xport(f.name)[0]
        assert len(frame) == len(table), path
        assert list(frame.columns) == header(unblinded, path.replace(".xpt", ".csv")), path


@pytest.mark.parametrize("kind", ["unblinded", "blinded"])
@pytest.mark.parametrize("folder", ["sdtm", "adam"])
def test_define_xml_validates_and_names_every_dataset_and_variable(request, kind, folder):
    unblinded = request.getfixturevalue(kind)
    schema = etree.XMLSchema(etree.parse(str(SCHEMA)))
    doc = etree.fromstring(unblinded.files[f"{folder}/define.xml"])
    schema.assertValid(doc)
    ns = {"odm": "http://www.cdisc.org/ns/odm/v1.3", "def": "http://www.cdisc.org/ns/def/v2.1",
          "xlink": "http://www.w3.org/1999/xlink"}
    groups = {g.get("Name"): g for g in doc.iterfind(".//odm:ItemGroupDef", ns)}
    files = {Path(p).stem.upper(): p for p in unblinded.files if p.startswith(f"{folder}/") and p.endswith(".xpt")}
    assert set(groups) == set(files)
    items = {i.get("OID"): i.get("Name") for i in doc.iterfind(".//odm:ItemDef", ns)}
    methods = {m.get("OID") for m in doc.iterfind(".//odm:MethodDef", ns)}
    for name, group in groups.items():
        leaf = group.find("def:leaf", ns)
        assert leaf.get(f"{{{ns['xlink']}}}href") == f"{name.lower()}.xpt"
        named = [items[ref.get("ItemOID")] for ref in group.iterfind("odm:ItemRef", ns)]
        assert named == header(unblinded, files[name].replace(".xpt", ".csv"))
        assert all(ref.get("MethodOID") in methods for ref in group.iterfind("odm:ItemRef", ns) if ref.get("MethodOID"))
    assert b"<html" in unblinded.files[f"{folder}/define.html"]


def test_same_bytes_on_a_second_run_with_the_clock_moved(world, unblinded, closed_cut):
    with time_machine.travel(dt.datetime(2031, 1, 1, tzinfo=dt.UTC), tick=False):
        again = write_package(world.context(blinded=False))
        cut_again = write_package(world.context(blinded=False, source="cut"))
    assert again.files == unblinded.files
    # The DSMB's report of a closed cut is a member like the others: the same bytes on every build.
    assert b"DSMB closed report, DSMB interim 1" in closed_cut.files["analysis/report.html"]
    assert cut_again.files == closed_cut.files


def test_the_report_holds_the_analysis_and_the_safety_tables_of_the_packages_datasets(world, closed_cut):
    files = closed_cut.files
    html = files["analysis/report.html"].decode()
    safety = json.loads(files["analysis/safety.json"])
    adsl = rows(closed_cut, "adam/adsl.csv")
    # The same tables from the package's CSV twins of the datasets (numbers as text there).
    assert safety == safety_tables([{**r, "TRTSDT": r["TRTSDT"] or None} for r in adsl], rows(closed_cut, "sdtm/ae.csv"),
                                   rows(closed_cut, "sdtm/suppae.csv"))
    # The world's one AE: p1's serious anemia (MALS), in the blood SOC; four dosed participants.
    arm = next(r["TRT01P"] for r in adsl if r["USUBJID"] == usubjid(world.participants["p1"]))
    other = next(a for a in safety["arms"] if a != arm)
    assert sum(safety["n"].values()) == 4
    assert safety["by_soc"][0]["arms"][arm]["serious"] == {"events": 1, "participants": 1}
    assert safety["by_soc"][0]["arms"][other]["all"] == {"events": 0, "participants": 0}
    anemia = next(s for s in safety["signals"] if s["key"] == "anemia")
    mals = next(g for g in anemia["groups"] if g["phenotype"] == "MALS")
    assert mals["product_phenotype"] and mals["arms"][arm]["participants"] == 1
    for r in soc_rows(safety):
        assert f"<tr><th>{r['soc']}</th>{''.join(f'<td>{c}</td>' for c in r['cells'])}</tr>" in html, r
    for signal in safety["signals"]:
        for r in signal_rows(signal, safety["arms"]):
            assert "".join(f"<td>{c}</td>" for c in r["cells"]) in html
    result = json.loads(files["analysis/primary.json"])
    assert all(comparison_cells(n, g)["active"] in html for n, g in forest_groups(result))
    # Its header names the members it was computed from with the hashes the package holds them with.
    for member in ("adam/adsl.xpt", "sdtm/ae.xpt", "sdtm/suppae.xpt"):
        sha = hashlib.sha256(files[member]).hexdigest()
        assert f"<li><code>{member}</code> SHA-256 <code>{sha}</code></li>" in html
    # Self-contained: no script, no external asset.
    assert "<script" not in html and "http" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_primary_analysis_is_written_from_the_adam(unblinded):
    result = json.loads(unblinded.files["analysis/primary.json"])
    adsl = rows(unblinded, "adam/adsl.csv")
    mitt = [r for r in adsl if r["MITTFL"] == "Y"]
    p = result["primary"]
    assert p["active"]["n"] + p["placebo"]["n"] == len(mitt) == 4
    assert p["active"]["n"] == sum(1 for r in mitt if r["TRT01P"] == "Precision immunotherapy")
    assert result["not_evaluable_counted_as_non_responders"][
        next(r["TRT01P"] for r in adsl if r["EVALFL"] == "N")] == 1
    html = unblinded.files["analysis/primary.html"]
    assert html.count(b"<svg") == 2 and b"Responders" in html


def test_blinded_package_carries_no_arm(blinded):
    assert not any(p.startswith("analysis/") for p in blinded.files)
    assert "sdtm/ex.xpt" not in blinded.files and "sdtm/ec.xpt" in blinded.files
    for path, data in blinded.files.items():
        if path.startswith("sdtm/ts."):
            # The trial summary names the trial's control type (TCNTRL "PLACEBO"), no one's arm.
            data = data.replace(b"PLACEBO", b"")
        for word in ARM_WORDS:
            assert word not in data, f"{word!r} in {path}"
    dm = rows(blinded, "sdtm/dm.csv")
    assert {r["ARMNRS"] for r in dm if r["RFSTDTC"]} == {"BLINDED"} and {r["ARM"] for r in dm} == {""}


def test_blinded_bytes_do_not_depend_on_the_arms(world, blinded, unblinded, django_db_blocker):
    from ecrf.randomization.models import Assignment, Slot

    with django_db_blocker.unblock(), transaction.atomic():
        for assignment in Assignment.objects.select_related("slot"):
            slot: Slot = assignment.slot
            slot.arm = "placebo" if slot.arm == "active" else "active"
            slot.save(update_fields=["arm"])
        swapped_blinded = write_package(world.context(blinded=True))
        swapped_unblinded = write_package(world.context(blinded=False))
        transaction.set_rollback(True)
    assert swapped_unblinded.files["adam/adsl.xpt"] != unblinded.files["adam/adsl.xpt"]  # the swap is real
    assert swapped_blinded.files == blinded.files


def _zip(sink, path: Path) -> Path:  # noqa: ANN001
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        for name, data in sink.files.items():
            archive.writestr(f"package/{name}", data)
    return path


def test_primary_analysis_command_reads_the_package(unblinded, tmp_path):
    from django.core.management import call_command

    from ecrf.analysis.primary import summary_line

    out = io.StringIO()
    call_command("primary_analysis", str(_zip(unblinded, tmp_path / "p.zip")), out=str(tmp_path / "report"), stdout=out)
    assert out.getvalue().strip() == summary_line(json.loads(unblinded.files["analysis/primary.json"]))
    assert (tmp_path / "report" / "primary.csv").read_text().startswith("analysis,active_n")
    assert b"package SHA-256" in (tmp_path / "report" / "primary.html").read_bytes()


@pytest.mark.parametrize("case", ["blinded", "other study", "not a package"])
def test_primary_analysis_command_refuses_bad_packages(case, blinded, unblinded, tmp_path, django_db_blocker):
    from django.core.management import CommandError, call_command

    from ecrf.study.models import Study

    if case == "not a package":
        package = tmp_path / "p.zip"
        package.write_bytes(b"not a zip")
    else:
        package = _zip(blinded if case == "blinded" else unblinded, tmp_path / "p.zip")
    out = io.StringIO()
    with transaction.atomic():
        if case == "other study":
            study = Study.objects.current()
            study.code = "OTHER"
            study.save(update_fields=["code"])
        with pytest.raises(CommandError, match={"blinded": "blinded", "other study": "of study ISEP, not of OTHER",
                                                "not a package": "neither a package zip"}[case]):
            call_command("primary_analysis", str(package), out=str(tmp_path / "report"), stdout=out)
        transaction.set_rollback(True)
    assert out.getvalue() == "" and not (tmp_path / "report").exists()


def test_the_datasets_show_each_form_as_it_stood_at_the_package_time(world, unblinded, django_db_blocker):
    # A data cut is a snapshot of a running study: a correction written after its time is not in
    # its SDTM or ADaM (it is in a package cut later).
    from ecrf.sofa.models import SofaDay

    p1 = world.participants["p1"]

    def day_one_total(sink) -> str:  # noqa: ANN001
        return next(r["RSORRES"] for r in by(sink, "sdtm/rs.csv")[usubjid(p1)]
                    if r["RSTESTCD"] == "SOFATOT" and r["VISITNUM"] == "1")

    with django_db_blocker.unblock(), transaction.atomic():
        with time_machine.travel(world.as_of + dt.timedelta(hours=1), tick=False):
            day = SofaDay.objects.get(participant=p1, day=1)
            before = day_one_total(unblinded)
            day.total = day.total + 1  # a stored correction (the world stores its totals)
            day._change_reason = "Corrected after the cut"
            day.save()
        later = world.context(blinded=False, source_id=2)
        cut = write_package(world.context(blinded=False, source_id=3))
        moved = write_package(type(later)(**{**later.__dict__, "as_of": world.as_of + dt.timedelta(hours=2)}))
        transaction.set_rollback(True)
    assert day_one_total(cut) == before
    assert day_one_total(moved) != before
