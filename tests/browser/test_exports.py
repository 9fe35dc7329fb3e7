"""Browser: the sponsor requests the blinded package of the study lock, watches its progress bar
(the page reloads itself while the package is written, without JavaScript) and downloads it."""

from __future__ import annotations

import hashlib

import pytest
from playwright.sync_api import expect

from ecrf.accounts.roles import Role
from ecrf.exports import tasks
from ecrf.exports.models import ExportJob
from ecrf.exports.services import export_job_run
from tests.exports.conftest import build_locked_study

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sponsor_requests_watches_and_downloads_a_package(page, login, users, site_a, settings, tmp_path, monkeypatch):
    settings.EXPORTS_DIR = str(tmp_path)
    build_locked_study(users, site_a)
    queued: list[int] = []
    monkeypatch.setattr(tasks.export_run, "delay", queued.append)  # the test plays the worker
    login(users[Role.SPONSOR])
    page.goto("/exports/")
    page.get_by_role("button", name="Blinded package").click()
    job = ExportJob.objects.get()
    assert page.url.endswith(f"/exports/{job.pk}/") and queued == [job.pk]
    bar = page.locator("progress")
    assert bar.get_attribute("value") == "0" and "Queued" in page.locator("main").inner_text()
    export_job_run(job_id=job.pk)
    # No script: the Refresh header reloads the page until the package is done.
    expect(page.locator("progress")).to_have_attribute("value", "100", timeout=20_000)
    job.refresh_from_db()
    assert "Done" in page.locator("main").inner_text() and job.sha256 in page.locator("main").inner_text()
    with page.expect_download() as info:
        page.get_by_role("link", name=job.file_name).click()
    saved = tmp_path / "downloaded.zip"
    info.value.save_as(saved)
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == job.sha256
