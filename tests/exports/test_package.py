"""The package: what it holds, the same bytes from the same lock, verification, blinding."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile

import pytest
import time_machine
from django.utils import translation
from django.core.management import call_command
from django.core.management.base import CommandError
from lxml import etree

from ecrf.accounts.roles import Role
from ecrf.audit.models import Event, EventKind
from ecrf.exports.odm import NS, odm_schema
from ecrf.exports.services import export_download
from ecrf.randomization.models import Assignment, Slot
from ecrf.randomization.unblinding import study_unblind
from tests.conftest import PASSWORD
from tests.exports.conftest import build_locked_study, export_now, members, package_bytes

pytestmark = pytest.mark.django_db


def _csv(files: dict[str, bytes], name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(files[name].decode("utf-8"))))


def test_the_package_is_the_same_whatever_language_is_active_where_it_is_built(users, locked_study):
    """A package's labels are in the project's language: built where Greek is active (after a
    Greek user's request in the same thread, say), it is the English package, byte for byte."""
    sponsor = users[Role.SPONSOR]
    with time_machine.travel("2027-01-05 09:00Z", tick=False):
        english = export_now(sponsor)
        with translation.override("el"):
            greek = export_now(sponsor)
    assert english.status == greek.status == "done" and greek.odm_valid
    assert package_bytes(english) == package_bytes(greek)


def test_same_lock_gives_the_same_bytes_whatever_the_clock_and_later_events(users, locked_study):
    sponsor = users[Role.SPONSOR]
    with time_machine.travel("2027-01-05 09:00Z", tick=False):
        first = export_now(sponsor)
    export_download(actor=sponsor, job=first)  # an event after the lock: not in any package of it
    with time_machine.travel("2029-07-30 23:59Z", tick=False):
        second = export_now(sponsor)
    assert first.status == second.status == "done" and first.pk != second.pk
    data = package_bytes(first)
    assert data == package_bytes(second)
    files = members(data)
    manifest = json.loads(files["manifest.json"])
    assert first.manifest_sha256 == hashlib.sha256(files["manifest.json"]).hexdigest() == second.manifest_sha256
    assert first.sha256 == hashlib.sha256(data).hexdigest()
    # Every file is listed with its hash and size; the entries are sorted and dated at the lock.
    assert {f["path"] for f in manifest["files"]} == set(files) - {"manifest.json"}
    for f in manifest["files"]:
        assert hashlib.sha256(files[f["path"]]).hexdigest() == f["sha256"] and len(files[f["path"]]) == f["size"]
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = zf.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(2026, 3, 30, 8, 0, 0)}
    assert manifest["source"] == {"kind": "lock", "id": locked_study["lock"].pk, "as_of": "2026-03-30T08:00:00Z",
                                  "label": "Final database lock"}
    # crf/: the form as it stood at the lock, coded value with its label, status and version.
    (vitals,) = _csv(files, "crf/testapp.vitalsigns.csv")
    assert (vitals["heart_rate"], vitals["version"], vitals["status"], vitals["status_label"]) == ("96", "2", "submitted", "Submitted")
    assert "crf/testapp.vitalsigns.parquet" in files and "dictionary.csv" in files
    # audit/: both versions with who and why; the event log stops at the lock.
    history = _csv(files, "audit/history/testapp.vitalsigns.csv")
    assert [h["heart_rate"] for h in history] == ["100", "96"]
    assert history[1]["history_change_reason"] == "Transcription error, source says 96"
    events = _csv(files, "audit/events.csv")
    assert events and EventKind.DOWNLOAD not in {e["kind"] for e in events}
    assert Event.objects.filter(kind=EventKind.DOWNLOAD, object_id=str(first.pk), detail__sha256=first.sha256).exists()


def test_parquet_reads_back_the_csv_values(users, locked_study):
    import pyarrow.parquet as pq

    files = members(package_bytes(export_now(users[Role.SPONSOR])))
    table = pq.read_table(io.BytesIO(files["crf/testapp.vitalsigns.parquet"]))
    row = table.to_pylist()[0]
    assert row["heart_rate"] == 96 and str(row["temperature"]) == "38.5" and row["status_label"] == "Submitted"
    dictionary = {(d["dataset"], d["variable"]): d for d in _csv(files, "dictionary.csv")}
    assert dictionary[("testapp.vitalsigns", "status")]["codelist"].startswith("draft=Draft; submitted=Submitted")
    assert dictionary[("dosing.administration", "volume_ml")]["unit"] == "mL"


def test_odm_validates_against_the_1_3_2_schema_with_audit_records_and_signatures(users, locked_study):
    job = export_now(users[Role.SPONSOR])
    assert job.odm_valid is True and job.odm_validation == ""
    odm = members(package_bytes(job))["odm/clinical.xml"]
    doc = etree.fromstring(odm)
    odm_schema().assertValid(doc)  # the schema odmlib ships, not the writer's own check
    ns = {"o": NS}
    assert doc.get("FileType") == "Snapshot" and doc.get("AsOfDateTime") == doc.get("CreationDateTime") == "2026-03-30T08:00:00Z"
    vitals = doc.find(".//o:FormData[@FormOID='F.testapp.vitalsigns']", ns)
    assert vitals.find("o:AuditRecord/o:ReasonForChange", ns).text == "Transcription error, source says 96"
    assert vitals.find(".//o:ItemData[@ItemOID='IT.testapp.vitalsigns.heart_rate']", ns).get("Value") == "96"
    signature = doc.find(".//o:SubjectData/o:Signature", ns)
    assert signature.find("o:SignatureRef", ns).get("SignatureOID") == "SD.approve"
    assert doc.find(".//o:AdminData/o:SignatureDef[@OID='SD.approve']", ns) is not None
    # The schema check can fail: an AuditRecord after the item group is refused.
    vitals.append(vitals.find("o:AuditRecord", ns))
    assert not odm_schema().validate(doc)


def _swap_every_arm() -> None:
    other = {"active": "placebo", "placebo": "active"}
    for slot in Slot.objects.filter(pk__in=Assignment.objects.values("slot_id")):
        slot.arm = other[slot.arm]
        slot.save(update_fields=["arm"])  # Slot is not audited: a counterfactual world, not a correction


def test_blinded_package_is_the_same_when_every_arm_is_swapped(users, site_a, exports_dir):
    build_locked_study(users, site_a, emergency_unblinding=True)
    statistician = users[Role.STATISTICIAN]
    study_unblind(actor=statistician, reason="Final analysis", password=PASSWORD)
    blinded, unblinded = export_now(users[Role.SPONSOR]), export_now(statistician, blinded=False)
    _swap_every_arm()
    blinded_swapped, unblinded_swapped = export_now(users[Role.SPONSOR]), export_now(statistician, blinded=False)
    assert package_bytes(blinded) == package_bytes(blinded_swapped)
    # The same comparison sees an arm: the unblinded packages differ in the allocation and in the
    # analysis datasets that carry the arm (SDTM DM and EX, ADaM, the analysis), nowhere else.
    a, b = members(package_bytes(unblinded)), members(package_bytes(unblinded_swapped))
    differ = [n for n in a if a[n] != b.get(n)]
    assert {"crf/randomization.allocation.csv", "crf/randomization.allocation.parquet", "manifest.json"} <= set(differ)
    assert [n for n in differ if not n.startswith(("crf/randomization.allocation.", "manifest.json", "sdtm/", "adam/",
                                                   "analysis/"))] == []
    assert "sdtm/dm.csv" in differ and "adam/adsl.csv" in differ
    files = members(package_bytes(blinded))
    assert not [n for n in files if "randomization" in n or "pharmacy" in n or "pvclock" in n]
    assert EventKind.UNBLINDING not in {e["kind"] for e in _csv(files, "audit/events.csv")}
    assert EventKind.UNBLINDING in {e["kind"] for e in _csv(a, "audit/events.csv")}
    assert b"placebo" not in b"".join(files.values()) and b"placebo" in a["crf/randomization.allocation.csv"]


def _rezip(data: bytes, replace: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, replace.get(info.filename, src.read(info.filename)))
    return out.getvalue()


def test_verify_export_passes_a_package_and_names_a_changed_file_or_manifest(users, locked_study, exports_dir, capsys):
    job = export_now(users[Role.SPONSOR])
    path = exports_dir / job.file_name
    call_command("verify_export", str(path))
    assert "match the manifest" in capsys.readouterr().out
    data = path.read_bytes()
    files = members(data)
    name = "crf/testapp.vitalsigns.csv"
    changed = files[name].replace(b",96,", b",97,")
    assert changed != files[name]
    tampered = exports_dir / "tampered.zip"
    tampered.write_bytes(_rezip(data, {name: changed}))
    with pytest.raises(CommandError):
        call_command("verify_export", str(tampered))
    assert f"{name}: differs from the manifest" in capsys.readouterr().err
    # A manifest rewritten to match the changed file no longer matches the database's hash.
    manifest = json.loads(files["manifest.json"])
    for f in manifest["files"]:
        if f["path"] == name:
            f["sha256"], f["size"] = hashlib.sha256(changed).hexdigest(), len(changed)
    swapped = exports_dir / "swapped.zip"
    swapped.write_bytes(_rezip(data, {name: changed, "manifest.json": json.dumps(manifest, indent=2).encode()}))
    with pytest.raises(CommandError):
        call_command("verify_export", str(swapped))
    err = capsys.readouterr().err
    assert "manifest.json: differs from the manifest recorded in the database" in err and name not in err
    # A byte flipped inside a compressed member: that member is named, not a traceback.
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(name)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    flipped = bytearray(data)
    flipped[start + info.compress_size // 2] ^= 0xFF
    broken = exports_dir / "flipped.zip"
    broken.write_bytes(bytes(flipped))
    with pytest.raises(CommandError):
        call_command("verify_export", str(broken))
    assert f"{name}: cannot be read back from the zip" in capsys.readouterr().err


def test_a_withdrawal_of_consent_to_the_use_of_data_leaves_the_participant_out(users, site_a, exports_dir):
    study = build_locked_study(users, site_a, withdraw_data_use=True)
    kept, withdrawn = study["participants"]
    files = members(package_bytes(export_now(users[Role.SPONSOR])))
    assert [int(p["id"]) for p in _csv(files, "crf/crf.participant.csv")] == [kept.pk]
    assert {int(c["participant_id"]) for c in _csv(files, "crf/screening.consent.csv")} == {kept.pk}
    assert {int(h["participant_id"]) for h in _csv(files, "audit/history/screening.screening.csv")} == {kept.pk}
    assert json.loads(files["manifest.json"])["participants"] == 1
    assert withdrawn.subject_id.encode() not in files["odm/clinical.xml"] and kept.subject_id.encode() in files["odm/clinical.xml"]
