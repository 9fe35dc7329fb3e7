"""The central lab's CSV import: row-by-row validation, refused whole with a row report."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from ecrf.accounts.roles import Role
from ecrf.core.errors import DomainError
from ecrf.screening.imports import lab_import_csv
from ecrf.screening.models import CentralLabResult, LabImport, Screening
from tests.support.screening import consent, screen

pytestmark = pytest.mark.django_db
HEADER = "site,screening_number,ferritin,ferritin_unit,ferritin_sampled_at,ferritin_resulted_at,hla_dr,hla_dr_sampled_at,hla_dr_resulted_at\n"


def stamp(minutes_ago: int) -> str:
    return (timezone.now() - dt.timedelta(minutes=minutes_ago)).isoformat()


def row(number: str, ferritin: str = "900", hla_dr: str = "3000", site: str = "A", unit: str = "ng/mL") -> str:
    return f"{site},{number},{ferritin},{unit},{stamp(60)},{stamp(30)},{hla_dr},{stamp(60)},{stamp(20)}\n"


@pytest.fixture
def three(users, site_a):
    out = []
    for n in ("A-1", "A-2", "A-3"):
        p = screen(users[Role.COORDINATOR], site_a, n).participant
        consent(users[Role.COORDINATOR], p)
        out.append(p)
    return out


def test_good_file_is_stored_whole_and_outcomes_recomputed(users, three):
    text = HEADER + row("A-1", "6000", "9000") + row("A-2", "800", "2000", unit="ug/L") + row("A-3", "900", "12000")
    record = lab_import_csv(actor=users[Role.LAB], filename="lab.csv", content=text.encode())
    assert record.status == "accepted" and record.created_count == 3 and record.report == []
    outcome = {s.participant.screening_number: (s.eligibility, s.phenotype) for s in Screening.objects.select_related("participant")}
    assert outcome == {"A-1": ("eligible", "MALS"), "A-2": ("eligible", "immunoparalysis"), "A-3": ("not_eligible", None)}
    assert CentralLabResult.objects.get(participant=three[1]).ferritin_unit == "ug/L"
    history = CentralLabResult.objects.get(participant=three[0]).history.get()
    assert history.history_user == users[Role.LAB]
    # The same file again changes nothing; a corrected row updates with the file as the reason.
    again = lab_import_csv(actor=users[Role.LAB], filename="lab.csv", content=text.encode())
    assert (again.status, again.unchanged_count) == ("accepted", 3)
    fix = HEADER.replace("ferritin_unit,", "").replace(",ferritin_sampled_at,ferritin_resulted_at", "") \
        .replace(",hla_dr,hla_dr_sampled_at,hla_dr_resulted_at", "") + "A,A-3,7000\n"
    # A corrected value alone keeps the recorded sample and result times.
    fixed = lab_import_csv(actor=users[Role.LAB], filename="fix.csv", content=fix.encode())
    assert (fixed.status, fixed.updated_count) == ("accepted", 1)
    result = CentralLabResult.objects.get(participant=three[2])
    assert result.ferritin == 7000 and result.hla_dr == 12000
    assert result.history.order_by("-history_id").first().history_change_reason.startswith("Central-lab import fix.csv")
    assert Screening.objects.get(participant=three[2]).phenotype == "MALS"


def test_a_file_with_one_bad_row_is_refused_whole_with_a_row_report(users, three):
    text = HEADER + row("A-1") + row("A-2", ferritin="-40") + row("A-3")
    record = lab_import_csv(actor=users[Role.LAB], filename="lab.csv", content=text.encode())
    assert record.status == "refused"
    assert not CentralLabResult.objects.exists()
    assert record.report == [{"row": 3, "screening_number": "A-2", "errors": ["ferritin -40 is negative."]}]
    assert LabImport.objects.get().status == "refused"


def test_every_bad_row_is_reported(users, three, site_b):
    text = (HEADER + row("A-1", ferritin="lots") + row("A-2", hla_dr="99999999") + row("A-404") + row("A-3", site="Z")
            + row("A-1", unit="mmol/L") + "A,A-2,1\n")
    record = lab_import_csv(actor=users[Role.LAB], filename="bad.csv", content=text.encode())
    assert record.status == "refused" and not CentralLabResult.objects.exists()
    by_row = {p["row"]: " ".join(p["errors"]) for p in record.report}
    assert "ferritin 'lots' is not a number." in by_row[2]
    assert "beyond any measurable value" in by_row[3]
    assert "Unknown screening number 'A-404' at site A." in by_row[4]
    assert "Unknown site 'Z'." in by_row[5]
    assert "appears again (first on line 2)" in by_row[6] and "mmol/L" in by_row[6]
    assert "Expected 9 fields, found 3." in by_row[7]


def test_domain_rules_apply_per_row_and_refuse_the_file(users, three, site_a):
    unconsented = screen(users[Role.COORDINATOR], site_a, "A-9").participant
    text = HEADER + row("A-1") + row(unconsented.screening_number)
    record = lab_import_csv(actor=users[Role.LAB], filename="lab.csv", content=text.encode())
    assert record.status == "refused" and not CentralLabResult.objects.exists()
    assert record.report[0]["row"] == 3 and "after consent" in " ".join(record.report[0]["errors"])


def test_header_problems(users, three):
    record = lab_import_csv(actor=users[Role.LAB], filename="x.csv", content=b"site,number,ferritin,colour\n")
    assert record.status == "refused"
    assert [p["errors"] for p in record.report] == [["Missing columns: screening_number."], ["Unknown columns: colour, number."]]
    assert lab_import_csv(actor=users[Role.LAB], filename="x.csv", content=b"").report[0]["errors"] == ["The file is empty."]
    assert lab_import_csv(actor=users[Role.LAB], filename="x.csv", content=b"\xff\xfe").report[0]["errors"] == ["The file is not UTF-8 text."]


def test_only_the_lab_imports(users, three):
    with pytest.raises(DomainError) as info:
        lab_import_csv(actor=users[Role.COORDINATOR], filename="x.csv", content=(HEADER + row("A-1")).encode())
    assert info.value.status == 403
    assert not LabImport.objects.exists()


def test_import_api(api, users, three):
    client = api(users[Role.LAB])
    bad = SimpleUploadedFile("lab.csv", (HEADER + row("A-1") + row("A-2", hla_dr="-1")).encode(), content_type="text/csv")
    response = client.post("/api/v1/lab-imports/", {"file": bad}, format="multipart")
    assert response.status_code == 400
    body = response.json()
    assert body["error"]["code"] == "invalid" and "refused whole" in body["error"]["message"]
    assert body["import"]["report"][0]["row"] == 3
    good = SimpleUploadedFile("lab.csv", (HEADER + row("A-1") + row("A-2")).encode(), content_type="text/csv")
    response = client.post("/api/v1/lab-imports/", {"file": good}, format="multipart")
    assert response.status_code == 201 and response.json()["created_count"] == 2
    assert [r["status"] for r in client.get("/api/v1/lab-imports/").json()["results"]] == ["accepted", "refused"]
    assert api(users[Role.COORDINATOR]).get("/api/v1/lab-imports/").status_code == 403
