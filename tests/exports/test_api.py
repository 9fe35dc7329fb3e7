"""Requests, refusals, downloads and data cuts through the API and the pages."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io

import pytest
from django.db import IntegrityError, transaction

from ecrf.accounts.roles import Role
from ecrf.audit.models import Event, EventKind
from ecrf.exports import tasks
from ecrf.exports.models import DataCut, ExportJob
from ecrf.exports.services import export_job_run
from tests.exports.conftest import T0, build_locked_study, export_now, members

pytestmark = pytest.mark.django_db


def _error(response) -> str:  # noqa: ANN001
    body = response.json()
    assert set(body["error"]) == {"code", "message", "fields"}
    return body["error"]["code"]


def test_no_lock_unblinded_before_unblinding_and_a_second_export_while_one_runs_are_refused(users, site_a, api, exports_dir,
                                                                                              monkeypatch):
    sponsor, statistician = api(users[Role.SPONSOR]), api(users[Role.STATISTICIAN])
    refused = sponsor.post("/api/v1/exports/", {"blinded": True}, format="json")
    assert refused.status_code == 409 and _error(refused) == "export_no_source" and not ExportJob.objects.exists()

    build_locked_study(users, site_a)
    refused = statistician.post("/api/v1/exports/", {"blinded": False}, format="json")
    assert refused.status_code == 409 and _error(refused) == "export_not_unblinded"
    refused = sponsor.post("/api/v1/exports/", {"blinded": False}, format="json")
    assert refused.status_code == 403 and _error(refused) == "forbidden" and not ExportJob.objects.exists()

    queued = []
    monkeypatch.setattr(tasks.export_run, "delay", queued.append)
    first = sponsor.post("/api/v1/exports/", {"blinded": True}, format="json")
    assert first.status_code == 201 and first.json()["status"] == "queued"
    second = statistician.post("/api/v1/exports/", {"blinded": True}, format="json")
    assert second.status_code == 409 and _error(second) == "export_already_running"
    assert ExportJob.objects.count() == 1
    # The database holds the rule against a race between two requests, too.
    job = ExportJob.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        ExportJob.objects.create(source="lock", lock=job.lock, blinded=True, requested_by=users[Role.SPONSOR])
    # Not ready yet: nothing to download.
    early = sponsor.get(f"/api/v1/exports/{job.pk}/download/")
    assert early.status_code == 409 and _error(early) == "export_not_ready"


def test_the_job_is_enqueued_on_commit_only(users, locked_study, api, django_capture_on_commit_callbacks, monkeypatch):
    queued = []
    monkeypatch.setattr(tasks.export_run, "delay", queued.append)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api(users[Role.SPONSOR]).post("/api/v1/exports/", {}, format="json")
    assert response.status_code == 201 and queued == [] and len(callbacks) == 1
    callbacks[0]()
    assert queued == [response.json()["id"]]


def test_download_is_audited_and_only_for_the_roles_that_may_see_the_package(users, locked_study, api, exports_dir):
    job = export_now(users[Role.SPONSOR])
    url = f"/api/v1/exports/{job.pk}/download/"
    response = api(users[Role.SPONSOR]).get(url)
    body = b"".join(response.streaming_content)
    assert response.status_code == 200 and hashlib.sha256(body).hexdigest() == job.sha256 == response["X-Package-SHA256"]
    event = Event.objects.get(kind=EventKind.DOWNLOAD, object_id=str(job.pk))
    assert event.actor == users[Role.SPONSOR] and event.detail["sha256"] == job.sha256
    assert event.detail["manifest_sha256"] == job.manifest_sha256
    for role in (Role.COORDINATOR, Role.INVESTIGATOR, Role.PHARMACIST, Role.MONITOR, Role.ADMIN):
        refused = api(users[role]).get(url)
        assert refused.status_code == 403 and _error(refused) == "forbidden", role
    refused = api(users[Role.DSMB]).get(url)  # a lock's package is not the DSMB's
    assert refused.status_code == 404 and _error(refused) == "not_found"
    assert Event.objects.filter(kind=EventKind.DOWNLOAD).count() == 1
    # A package changed on disk is refused, not served.
    (exports_dir / job.file_name).write_bytes(body[:-1] + bytes([body[-1] ^ 1]))
    tampered = api(users[Role.SPONSOR]).get(url)
    assert tampered.status_code == 409 and _error(tampered) == "export_tampered"


def test_a_closed_data_cut_is_a_snapshot_for_the_dsmb_only(users, locked_study, api, exports_dir, monkeypatch):
    monkeypatch.setattr(tasks.export_run, "delay", lambda job_id: None)
    p1 = locked_study["participants"][0]
    statistician = api(users[Role.STATISTICIAN])
    future = statistician.post("/api/v1/data-cuts/", {"label": "Later", "cutoff_at": "2099-01-01T00:00:00Z"}, format="json")
    assert future.status_code == 400 and "cutoff_at" in future.json()["error"]["fields"]
    # Before the heart rate was corrected (day 2): the cut holds the first value.
    made = statistician.post("/api/v1/data-cuts/", {"label": "DSMB interim 1", "participant_ids": [p1.pk], "closed": True,
                                                    "cutoff_at": (T0 + dt.timedelta(days=1, hours=12)).isoformat()}, format="json")
    assert made.status_code == 201, made.content
    cut = DataCut.objects.get()
    assert api(users[Role.SPONSOR]).get("/api/v1/data-cuts/").status_code == 403
    blinded = statistician.post("/api/v1/exports/", {"cut": cut.pk, "blinded": True}, format="json")
    assert blinded.status_code == 409 and _error(blinded) == "export_cut_kind"  # a closed cut is exported unblinded
    requested = statistician.post("/api/v1/exports/", {"cut": cut.pk, "blinded": False}, format="json")
    assert requested.status_code == 201
    job = export_job_run(job_id=requested.json()["id"])
    assert job.status == "done", job.error
    assert [j["id"] for j in api(users[Role.DSMB]).get("/api/v1/exports/").json()["results"]] == [job.pk]
    assert api(users[Role.SPONSOR]).get(f"/api/v1/exports/{job.pk}/").status_code == 404
    response = api(users[Role.DSMB]).get(f"/api/v1/exports/{job.pk}/download/")
    files = members(b"".join(response.streaming_content))
    (vitals,) = csv.DictReader(io.StringIO(files["crf/testapp.vitalsigns.csv"].decode()))
    assert (vitals["heart_rate"], vitals["version"]) == ("100", "1")
    participants = list(csv.DictReader(io.StringIO(files["crf/crf.participant.csv"].decode())))
    assert [int(p["id"]) for p in participants] == [p1.pk]
    allocation = list(csv.DictReader(io.StringIO(files["crf/randomization.allocation.csv"].decode())))
    assert [int(a["participant_id"]) for a in allocation] == [p1.pk] and allocation[0]["arm"] in ("active", "placebo")


def test_the_page_shows_progress_refreshes_while_running_and_offers_the_download(users, locked_study, client, monkeypatch):
    monkeypatch.setattr(tasks.export_run, "delay", lambda job_id: None)
    client.force_login(users[Role.SPONSOR])
    response = client.post("/exports/", {"kind": "blinded"})
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/exports/{job.pk}/"
    page = client.get(f"/exports/{job.pk}/")
    assert b'<progress value="0" max="100"' in page.content and page["Refresh"] == "3"
    export_job_run(job_id=job.pk)
    page = client.get("/exports/")
    assert b'<progress value="100" max="100"' in page.content and not page.has_header("Refresh")
    assert f'href="/exports/{job.pk}/download/"'.encode() in page.content
    download = client.get(f"/exports/{job.pk}/download/")
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    client.force_login(users[Role.COORDINATOR])
    assert client.get("/exports/").status_code == 403


def test_the_statistician_makes_a_cut_and_requests_its_package_on_the_cuts_page(users, locked_study, exports_dir,
                                                                                 django_capture_on_commit_callbacks):
    from django.test import Client

    page = Client()
    page.force_login(users[Role.STATISTICIAN])
    assert "Make a data cut" in page.get("/exports/cuts/").content.decode()
    # An ambiguous date is refused with the pattern, and nothing is made.
    refused = page.post("/exports/cuts/", {"label": "DSMB interim 1", "cutoff_at": "12/03/2026 12:00", "closed": "on"})
    assert refused.status_code == 400 and "YYYY-MM-DD HH:MM" in refused.content.decode()
    assert not DataCut.objects.exists()
    made = page.post("/exports/cuts/", {"label": "DSMB interim 1", "cutoff_at": "2026-03-12 12:00", "closed": "on"})
    assert made.status_code == 302 and made["Location"] == "/exports/cuts/"
    cut = DataCut.objects.get()
    # Entered in the viewer's zone (Europe/Athens, UTC+2 in March): 10:00 UTC.
    assert cut.closed and cut.cutoff_at == dt.datetime(2026, 3, 12, 10, 0, tzinfo=dt.UTC)
    assert cut.participant_ids == sorted(p.pk for p in locked_study["participants"])
    listed = page.get("/exports/cuts/").content.decode()
    assert "DSMB interim 1" in listed and "Closed (unblinded)" in listed
    with django_capture_on_commit_callbacks(execute=False):
        queued = page.post("/exports/cuts/", {"action": "package", "cut": cut.pk})
    job = ExportJob.objects.get()
    assert queued.status_code == 302 and queued["Location"] == f"/exports/{job.pk}/"
    assert job.cut_id == cut.pk and not job.blinded
    # The DSMB reads the cuts but makes none; the sponsor does not see them.
    dsmb = Client()
    dsmb.force_login(users[Role.DSMB])
    read = dsmb.get("/exports/cuts/").content.decode()
    assert "DSMB interim 1" in read and "Make a data cut" not in read
    assert dsmb.post("/exports/cuts/", {"label": "x", "cutoff_at": "2026-03-12 12:00"}).status_code == 403
    sponsor = Client()
    sponsor.force_login(users[Role.SPONSOR])
    assert sponsor.get("/exports/cuts/").status_code == 403
