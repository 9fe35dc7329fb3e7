"""The primary analysis of an export package through the API action and the page, on the analysis
world's study lock (its unblinded and blinded packages written once for the module): the numbers
are ``primary_analysis`` on the package's own ADaM; a blinded, tampered or missing package and a
role that may not see it are refused with no result and no event."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import override_settings

from ecrf.accounts.roles import Role
from ecrf.accounts.services import user_create
from ecrf.analysis.primary import ARMS, primary_analysis, summary_line
from ecrf.analysis.reader import read_adam, read_safety
from ecrf.analysis.report import comparison_cells, forest_groups, signal_rows, soc_rows
from ecrf.analysis.safety_tables import safety_tables
from ecrf.audit.models import Event, EventKind
from ecrf.exports.models import ExportJob, ExportStatus
from ecrf.exports.package import exports_dir
from ecrf.exports.services import data_cut_create
from ecrf.randomization.unblinding import study_unblind
from ecrf.review.services import scope_lock
from ecrf.study.services import current_protocol
from tests.conftest import PASSWORD
from tests.exports.conftest import export_now
from tests.support import stages

pytestmark = pytest.mark.django_db
ROLES = (Role.DATA_MANAGER, Role.STATISTICIAN, Role.SPONSOR, Role.DSMB)


@pytest.fixture(scope="module")
def packages(world, django_db_blocker, tmp_path_factory) -> Iterator[dict]:
    with django_db_blocker.unblock(), override_settings(EXPORTS_DIR=str(tmp_path_factory.mktemp("exports"))):
        users = {role: user_create(actor=None, username=f"pa-{role}", roles=[role], password=PASSWORD)[0] for role in ROLES}
        with stages.clock(world.as_of):
            # The DSMB's closed cut of the running study, before the lock and the unblinding.
            cut = data_cut_create(actor=users[Role.STATISTICIAN], label="DSMB interim 1", cutoff_at=world.as_of,
                                  closed=True)
            closed = export_now(users[Role.STATISTICIAN], blinded=False, cut=cut)
        with stages.clock(world.as_of), override_settings(STUDY_LOCK_GATE_CONDITIONS=[]):
            lock = scope_lock(actor=users[Role.DATA_MANAGER], level="study", reason="Final database lock")
        study_unblind(actor=users[Role.STATISTICIAN], reason="Final analysis", password=PASSWORD)
        unblinded = export_now(users[Role.STATISTICIAN], blinded=False)
        blinded = export_now(users[Role.SPONSOR])
        yield {"users": users, "lock": lock, "unblinded": unblinded, "blinded": blinded, "closed": closed,
               "dir": exports_dir()}


@pytest.fixture
def in_exports_dir(packages, settings) -> Path:
    settings.EXPORTS_DIR = str(packages["dir"])
    return packages["dir"]


def _expected(path: Path) -> dict:
    """The function's own output on the package's ADaM, as JSON carries it."""
    adsl, adsofa = read_adam(path)
    return json.loads(json.dumps(primary_analysis(adsl, adsofa, threshold=current_protocol().responder_threshold)))


def _rewrite_member(path: Path, data: bytes) -> None:
    """The package as a valid zip whose SOFA table (not the ADaM the analysis reads) has one byte changed."""
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(path, "w") as target:
        assert "crf/sofa.sofaday.csv" in source.namelist()
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "crf/sofa.sofaday.csv":
                content = content[:-2] + bytes([content[-2] ^ 1]) + content[-1:]
            target.writestr(info, content)


def _views() -> int:
    return Event.objects.filter(kind=EventKind.DOWNLOAD, detail__view="primary_analysis").count()


def test_api_and_page_give_the_analysis_of_the_packages_adam(packages, in_exports_dir, api, client):
    statistician, job = packages["users"][Role.STATISTICIAN], packages["unblinded"]
    path = in_exports_dir / job.file_name
    expected = _expected(path)
    assert expected["analysed"] == 4 and expected["randomized"] == 5  # the world's four dosed of five randomized

    response = api(statistician).get(f"/api/v1/exports/{job.pk}/analysis/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["result"] == expected and body["summary"] == summary_line(expected)
    assert body["safety"] == json.loads(json.dumps(safety_tables(*read_safety(path))))
    assert body["package_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest() == job.sha256
    assert body["as_of"].replace("Z", "+00:00") == packages["lock"].set_at.isoformat()
    event = Event.objects.get(kind=EventKind.DOWNLOAD, detail__view="primary_analysis")
    assert event.actor == statistician and event.object_id == str(job.pk)
    assert event.detail["sha256"] == job.sha256 and event.detail["blinded"] is False

    client.force_login(statistician)
    detail = client.get(f"/exports/{job.pk}/")
    assert f'href="/exports/{job.pk}/analysis/"'.encode() in detail.content
    page = client.get(f"/exports/{job.pk}/analysis/")
    assert page.status_code == 200
    text = page.content.decode()
    assert summary_line(expected) in text and job.sha256 in text
    assert packages["lock"].set_at.isoformat().replace("+00:00", "") in text
    for name, group in forest_groups(expected) + [("Day 28", expected["mortality_day28"]),
                                                  ("Day 90", expected["mortality_day90"])]:
        cells = comparison_cells(name, group)
        row = "".join(f"<td>{cells[k]}</td>" for k in ("active", "placebo", "difference", "chi2_yates_p", "fisher_p"))
        assert f'<th scope="row">{name}</th>{row}' in text, name
    # The CSP forbids inline <style> elements: the pictures come without theirs.
    assert text.count("<svg") == 2 and "<style" not in text
    assert _views() == 2


def test_refusals_carry_no_result_and_record_nothing(packages, in_exports_dir, api, client):
    users, job, blinded = packages["users"], packages["unblinded"], packages["blinded"]
    statistician = users[Role.STATISTICIAN]
    url = "/api/v1/exports/{}/analysis/"

    # Refused on the record, before the file is opened: the same answer with the file gone.
    blinded_path = in_exports_dir / blinded.file_name
    blinded_path.rename(blinded_path.with_suffix(".away"))
    try:
        refused = api(statistician).get(url.format(blinded.pk))
    finally:
        blinded_path.with_suffix(".away").rename(blinded_path)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "analysis_blinded"
    assert "ask for the unblinded package" in refused.json()["error"]["message"]
    forbidden = api(users[Role.SPONSOR]).get(url.format(blinded.pk))
    assert forbidden.status_code == 403 and forbidden.json()["error"]["code"] == "forbidden"
    assert api(users[Role.SPONSOR]).get(url.format(job.pk)).status_code == 404  # not visible to the sponsor
    assert api(users[Role.DSMB]).get(url.format(job.pk)).status_code == 404  # a lock's package is not the DSMB's
    failed = ExportJob.objects.create(source="lock", lock=packages["lock"], blinded=False, status=ExportStatus.FAILED,
                                      requested_by=statistician, error="Worker lost")
    not_ready = api(statistician).get(url.format(failed.pk))
    assert not_ready.status_code == 409 and not_ready.json()["error"]["code"] == "export_not_ready"
    client.force_login(statistician)
    assert b"/analysis/" not in client.get(f"/exports/{blinded.pk}/").content
    assert b"/analysis/" not in client.get(f"/exports/{failed.pk}/").content
    page = client.get(f"/exports/{blinded.pk}/analysis/")
    assert page.status_code == 409 and b"ask for the unblinded package" in page.content

    path = in_exports_dir / job.file_name
    expected, data = _expected(path), path.read_bytes()
    numbers = {summary_line(expected)} | {comparison_cells(n, g)["active"] for n, g in forest_groups(expected)}
    middle = len(data) // 2
    try:
        for case in ("flipped byte", "member rewritten", "missing"):
            if case == "flipped byte":
                path.write_bytes(data[:middle] + bytes([data[middle] ^ 1]) + data[middle + 1:])
            elif case == "member rewritten":
                _rewrite_member(path, data)
            else:
                path.unlink()
            tampered = api(statistician).get(url.format(job.pk))
            assert tampered.status_code == 409, case
            assert set(tampered.json()) == {"error"} and tampered.json()["error"]["code"] == "analysis_package_tampered"
            assert str(in_exports_dir) not in tampered.content.decode()  # the server's path stays out
            page = client.get(f"/exports/{job.pk}/analysis/")
            assert page.status_code == 409 and "fails its check" in page.content.decode(), case
            assert not [n for n in numbers if n in tampered.content.decode() or n in page.content.decode()], case
    finally:
        path.write_bytes(data)
    assert _views() == 0


def _safety_cells(path: Path) -> list[str]:
    """The safety tables' rows as the page prints them, from the package's own datasets."""
    adsl, ae, suppae = read_safety(path)
    tables = safety_tables(adsl, ae, suppae)
    out = [f'<th scope="row">{r["soc"]}</th>' + "".join(f"<td>{c}</td>" for c in r["cells"]) for r in soc_rows(tables)]
    for signal in tables["signals"]:
        out += ["".join(f"<td>{c}</td>" for c in r["cells"]) for r in signal_rows(signal, ARMS)]
    return out


def test_the_dsmb_reads_the_closed_cuts_report_and_the_statistician_the_unblinded_lock(packages, in_exports_dir, client):
    users, closed = packages["users"], packages["closed"]
    cells = _safety_cells(in_exports_dir / closed.file_name)
    # The report is a member of the cut's zip, listed in its manifest with its hash (what verify_export checks).
    with zipfile.ZipFile(in_exports_dir / closed.file_name) as zf:
        listed = {f["path"]: f["sha256"] for f in json.loads(zf.read("manifest.json"))["files"]}
        report_html = zf.read("analysis/report.html")
    assert listed["analysis/report.html"] == hashlib.sha256(report_html).hexdigest()
    assert b"DSMB closed report, DSMB interim 1" in report_html
    # The world's one AE is p1's serious anemia, not yet coded: one arm has one participant with an SAE.
    assert cells[0].startswith('<th scope="row">Any adverse event</th>') and cells[1].startswith('<th scope="row">Not coded')
    assert sorted(cells[0].split("<td>")[3::4]) == ["0</td>", "1</td>"]  # SAE events per arm
    for role in (Role.DSMB, Role.STATISTICIAN):
        client.force_login(users[role])
        page = client.get(f"/exports/{closed.pk}/analysis/")
        assert page.status_code == 200, role
        text = page.content.decode()
        assert "DSMB closed report, DSMB interim 1" in text and closed.sha256 in text
        assert all(c in text for c in cells), [c for c in cells if c not in text]
        assert "Anemia (signal with anakinra)" in text and "Bleeding (signal with interferon-gamma-1b)" in text
        n = safety_tables(*read_safety(in_exports_dir / closed.file_name))["n"]
        assert "".join(f'<th scope="colgroup" colspan="4">{arm} (N = {n[arm]})</th>' for arm in ARMS) in text
    lock_job = packages["unblinded"]
    page = client.get(f"/exports/{lock_job.pk}/analysis/")  # the statistician, after the study unblinding
    assert page.status_code == 200 and "primary analysis and safety" in page.content.decode()
    assert all(c in page.content.decode() for c in _safety_cells(in_exports_dir / lock_job.file_name))
    assert _views() == 3


BLINDED_ROLES = (Role.SPONSOR, Role.DATA_MANAGER, Role.SAFETY_OFFICER, Role.MONITOR, Role.COORDINATOR,
                 Role.INVESTIGATOR, Role.PHARMACIST, Role.PHARMACOVIGILANCE, Role.ADMIN, Role.LAB)


@pytest.mark.parametrize("role", BLINDED_ROLES)
def test_every_other_role_is_refused_before_anything_is_read(role, packages, in_exports_dir, client, monkeypatch):
    def unread(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("the package was read for a role that may not see it")

    monkeypatch.setattr("ecrf.analysis.services.package_verify", unread)
    monkeypatch.setattr("ecrf.analysis.services.read_safety", unread)
    user = user_create(actor=None, username=f"pa-refused-{role}", roles=[role], site_codes=["A"] if role in (
        Role.COORDINATOR, Role.INVESTIGATOR, Role.PHARMACIST, Role.MONITOR) else [], password=PASSWORD)[0]
    client.force_login(user)
    for job in (packages["closed"], packages["unblinded"], packages["blinded"]):
        page = client.get(f"/exports/{job.pk}/analysis/")
        assert page.status_code in (403, 404), (role, job.pk, page.status_code)
        assert not [w for w in ARMS if w in page.content.decode()], (role, job.pk)
    assert _views() == 0


def test_a_blinded_package_is_refused_to_the_statistician_without_a_number(packages, in_exports_dir, client,
                                                                           monkeypatch):
    monkeypatch.setattr("ecrf.analysis.services.read_safety", lambda *a: pytest.fail("read a blinded package"))
    client.force_login(packages["users"][Role.STATISTICIAN])
    page = client.get(f"/exports/{packages['blinded'].pk}/analysis/")
    assert page.status_code == 409 and "Safety" not in page.content.decode()
    assert not [w for w in ARMS if w in page.content.decode()]
