"""Every write path passes the one write guard (ARCHITECTURE.md invariant 5: frozen or locked data
changes through no path until an audited unlock).

The paths are ENUMERATED, not listed by hand: every public keyword-only function of every app's
``services`` module (and ``randomization.unblinding``), and every URL of the URL conf that
accepts POST, PUT, PATCH or DELETE. Each must be classified below; a new service or a new write
URL that is not fails ``test_every_write_service_is_classified`` /
``test_every_write_url_reaches_only_classified_services`` until someone decides whether it writes
clinical data (then it must reach ``assert_writable``) or not (then the reason is written here).
A bulk job that must skip locked data rather than fail reaches the guard's bulk form instead
(``SKIPS_LOCKED``); a consequence that runs only inside a guarded form write is proved to be
reachable from nowhere else (``LISTENER_ONLY``). The behavioural tests then try the paths under a
participant, site or study lock.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from ecrf.accounts.roles import Role
from ecrf.core.errors import DomainError, ErrorCode
from ecrf.crf import guard
from ecrf.crf.listeners import listeners_for, written
from ecrf.crf.models import EntryStatus, LockScope, Participant
from ecrf.crf.registry import get_spec
from ecrf.crf.services import form_create, form_retract, form_update, participant_create, participant_mark_randomized
from ecrf.deviations.services import deviation_raise_system
from ecrf.outcomes.models import Death
from ecrf.outcomes.specs import DEATH
from ecrf.pharmacy.models import Preparation
from ecrf.pharmacy.selectors import worklist
from ecrf.pharmacy.services import preparation_record, preparation_record_day, preparation_retract
from ecrf.randomization.models import AllocationList, Assignment
from ecrf.randomization.services import allocation_list_generate, allocation_list_import, participant_randomize
from ecrf.screening.models import Consent
from ecrf.screening.services import (
    consent_record_patient_decision,
    consent_withdraw,
    screening_reassess,
    screening_register,
)
from safety.models import (
    Adjudication,
    AdjudicationReview,
    AdjudicationStatus,
    AdverseEvent,
    Clock,
    PvClock,
    SAEReport,
)
from safety.services import adjudication_review_submit, ae_death_recheck
from safety.specs import AE_SPEC
from tests.randomization.conftest import _no_broker, allocation  # noqa: F401  (fixtures)
from tests.safety.conftest import SERIOUS, ae_data, make_ae, meddra  # noqa: F401  (fixtures)
from tests.screening.factories import consent, eligible_participant, screen, screening_data
from tests.testapp.specs import VITALS

# Clinical writes: each must reach ecrf.crf.guard.assert_writable (directly or through another).
GUARDED = {
    "ecrf.crf.services.form_create", "ecrf.crf.services.form_update", "ecrf.crf.services.form_submit",
    "ecrf.crf.services.form_retract", "ecrf.crf.services.form_mark_not_done",
    "ecrf.crf.services.participant_create", "ecrf.crf.services.participant_mark_randomized",
    "ecrf.screening.services.screening_register", "ecrf.screening.services.screening_reassess",
    "ecrf.screening.services.screening_fix_for_randomization",
    "ecrf.screening.services.consent_record_patient_decision", "ecrf.screening.services.consent_withdraw",
    "ecrf.randomization.services.participant_randomize",
    "ecrf.randomization.services.allocation_list_generate", "ecrf.randomization.services.allocation_list_import",
    "ecrf.pharmacy.services.preparation_record", "ecrf.pharmacy.services.preparation_retract",
    "ecrf.pharmacy.services.preparation_record_day",
    "ecrf.deviations.services.deviation_raise_system", "ecrf.dosing.services.missed_dose_raise",
    "ecrf.sofa.services.sofa_days_rescore_after",
    # A derived endpoint of locked data does not change: refused when the result would change.
    "ecrf.sofa.services.endpoint_derive",
    "safety.services.sae_report_submit", "safety.services.followup_request",
    # The AEs' check against the Death form: each AE it would change passes the guard (also a
    # freeze of that one AE form), so a Death form write cannot change a locked AE.
    "safety.services.ae_death_recheck",
    # The final classification is part of the clinical database and of the locked export.
    "safety.services.adjudication_review_submit",
    # A query asks for a change of the data: raising, releasing or reopening one on locked data
    # would ask for what the lock forbids.
    "ecrf.queries.services.query_raise", "ecrf.queries.services.query_release",
    "ecrf.queries.services.query_release_many", "ecrf.queries.services.query_reopen",
}

# Bulk jobs that skip locked participants instead of failing the whole run: each must reach the
# bulk form of the guard (ecrf.crf.guard.locked_participant_ids); behaviour in
# tests/sofa/test_endpoint_locks.py (skipped, counted, nothing written, history unchanged).
SKIPS_LOCKED = {
    "ecrf.sofa.services.endpoints_rederive":
        "nightly and bulk re-derivation: locked participants keep their endpoints; the report counts them",
    "ecrf.queries.services.checks_run":
        "edit-check runs: the queries of locked or frozen participants stay as they are; the run counts them",
    "ecrf.queries.services.checks_run_requested": "the after-save run of checks_run for one participant",
}

# Consequences of a write, called only by a write listener inside an already-guarded write (the
# generic form services call assert_writable before they save and call the listeners). Each is
# checked below: registered for the key, reached by no write URL and by no unguarded service,
# and the outer form write is refused under every lock so that the consequence never runs.
LISTENER_ONLY = {
    "safety.services.adverse_event_changed": "safety.adverse_event",
}

# Not clinical data writes, or deliberately allowed under a lock; each with the reason.
NOT_GUARDED = {
    "ecrf.study.services.site_create": "configuration: a new site holds no participant data",
    "ecrf.study.services.study_update": "configuration (protocol constants), audited as study_config_change",
    "ecrf.accounts.services.login_failed": "account security, not clinical data",
    "ecrf.accounts.services.login_succeeded": "account security, not clinical data",
    "ecrf.accounts.services.login_locked_out": "account security, not clinical data",
    "ecrf.accounts.services.reauthenticate": "checks a password; writes only the audit event of a failure",
    "ecrf.accounts.services.user_create": "accounts and roles, not clinical data",
    "ecrf.accounts.services.role_grant_request": "accounts and roles, not clinical data",
    "ecrf.accounts.services.role_grant_approve": "accounts and roles, not clinical data",
    "ecrf.accounts.services.role_grant_refuse": "accounts and roles, not clinical data",
    "ecrf.accounts.services.role_revoke": "accounts and roles, not clinical data",
    "ecrf.accounts.services.membership_change": "names the actor of a membership change; writes nothing",
    "ecrf.audit.services.event_record": "the event log itself: a lock must never silence the audit trail",
    "ecrf.audit.services.audit_verify": "checks the audit trail and records the result in the event log: runs under any lock",
    "ecrf.notifications.services.notify": "notification outbox, not clinical data",
    "ecrf.notifications.services.notification_deliver": "notification delivery bookkeeping",
    "ecrf.notifications.services.notification_mark_read": "a user's inbox state",
    "ecrf.screening.services.compute_outcome": "pure derivation, writes nothing",
    "ecrf.screening.services.check_post_randomization_correction":
        "called only inside screening_reassess / form writes, after their guard",
    "ecrf.randomization.services.allocation_list_verify": "reads the list and regenerates it; writes nothing",
    "ecrf.randomization.unblinding.participant_emergency_unblind":
        "patient safety: a lock never stands between a clinician and a medical emergency (audited event)",
    "ecrf.randomization.unblinding.reveal_for_susar":
        "patient safety: expedited reporting of a SUSAR goes on after a lock (audited event)",
    "ecrf.randomization.unblinding.study_unblind": "requires the study lock by design (after database lock)",
    "ecrf.randomization.unblinding.unblinding_notify_safety_contact": "e-mail bookkeeping of an unblinding",
    "ecrf.crf.services.participant_flag_unblinded": "part of the emergency unblinding (see above)",
    "ecrf.dosing.services.missed_dose_sweep": "finds overdue doses and calls missed_dose_raise (guarded)",
    "ecrf.sofa.services.endpoints_schedule": "enqueues a derivation; writes nothing clinical",
    "safety.services.clocks_evaluate": "reporting-clock notifications; regulatory clocks keep running after a lock",
    "safety.services.review_access_denied": "records an access-denied event",
    "safety.services.adverse_event_changed":
        "the AE form's write listener (LISTENER_ONLY): runs only inside the guarded AE form write",
    # Expedited reporting does not stop at database lock (CTR Art. 41-42, ICH E2A): the sponsor's
    # assessment, the single-case decision, the authority report and their clocks are
    # pharmacovigilance records, not eCRF data; none of them changes an AE or any form.
    # tests/safety/test_reporting_under_lock.py runs each under a study lock.
    "safety.services.assessment_record":
        "the sponsor's blinded expectedness assessment (safety.md step 2) that starts a SUSAR's 7/15-day "
        "clock: a serious event reported before the lock must still be assessed and reported (CTR Art. 42)",
    "safety.services.susar_unblind_and_decide":
        "pharmacovigilance's single-case unblinding and SUSAR decision: expedited reporting goes on after "
        "a lock (CTR Art. 42); writes the case outcome and pharmacovigilance's clocks, never the AE",
    "safety.services.susar_report_submit":
        "records the SUSAR report sent to the authority and meets its clock: a legal deadline, not eCRF data",
    "safety.services.clock_start":
        "starts a reporting clock (SAE 24 h, SUSAR 7/15 days): regulatory deadlines run after a lock; called "
        "inside the guarded AE write and follow-up request, and by the expedited decision",
    # The review app: the scopes themselves, and review records that go on under a freeze.
    "ecrf.review.services.scope_freeze": "sets a freeze (the guard's own input), audited as an event and scope history",
    "ecrf.review.services.scope_lock": "sets a lock (the guard's own input); the study lock runs the study-lock gate",
    "ecrf.review.services.scope_unlock": "the audited unlock with a reason that the guard's message names",
    "ecrf.review.services.form_verify":
        "a verification record, not clinical data: allowed under a freeze, refused under a lock by its own check",
    "ecrf.review.services.signature_create":
        "an e-signature record, not clinical data: allowed under a freeze, refused under a lock by its own check",
    "ecrf.queries.services.check_run_request": "records a request for a check run (which skips locked data)",
    # Exports read locked data and write only their own records: the package is made from a lock.
    "ecrf.exports.services.export_request":
        "records an export job of the study lock or a data cut: reads clinical data, writes none",
    "ecrf.exports.services.export_job_run": "writes the package file and the job's status: reads clinical data as of its time",
    "ecrf.exports.services.export_retry": "re-queues a failed export job",
    "ecrf.exports.services.export_download": "records a download event (who, which hash): no clinical data",
    "ecrf.analysis.services.package_analysis": "records a view event (who, which package): reads a finished package",
    "ecrf.analysis.services.adam_analysis": "reads a package's ADaM and computes; writes nothing",
    "ecrf.analysis.services.package_safety": "reads a package's ADSL, AE and SUPPAE and counts; writes nothing",
    "ecrf.exports.services.data_cut_create":
        "records a DSMB data cut (a participant set and a cut-off time): a snapshot read, no clinical write",
    "ecrf.queries.services.checks_schedule":
        "records a participant's check request (the run's outbox, no clinical data) and enqueues the run",
    # Resolving queries is what comes before a lock and changes no clinical data: the site's
    # answer, the data team's close or cancel, and messages go on under a freeze or lock.
    "ecrf.queries.services.query_answer": "a query's answer: no clinical data changes",
    "ecrf.queries.services.query_close": "resolves a query: no clinical data changes",
    "ecrf.queries.services.query_close_many": "resolves queries: no clinical data changes",
    "ecrf.queries.services.query_cancel": "withdraws a query raised in error: no clinical data changes",
    "ecrf.queries.services.query_message": "a message in a query's thread: no clinical data changes",
    "ecrf.queries.services.query_assign": "routes a query to who answers it: no clinical data changes",
    "safety.services.pv_clock_start":
        "starts a decided SUSAR's clock in pharmacovigilance's table: the authority deadline runs after a lock",
}


def _service_modules() -> list[types.ModuleType]:
    found = []
    for app in apps.get_app_configs():
        if not (app.name.startswith("ecrf.") or app.name == "safety"):
            continue
        for sub in ("services", "unblinding"):
            try:
                found.append(importlib.import_module(f"{app.name}.{sub}"))
            except ModuleNotFoundError as exc:
                if exc.name != f"{app.name}.{sub}":
                    raise
    return found


def write_services() -> dict[str, Callable]:
    """Public functions of the services modules that take keyword-only arguments (the services convention:
    services are keyword-only; pure helpers take positional values)."""
    out = {}
    for module in _service_modules():
        for name, func in inspect.getmembers(module, inspect.isfunction):
            # A services package (safety.services) is one services module: its public names.
            inside = func.__module__ == module.__name__ or (
                hasattr(module, "__path__") and func.__module__.startswith(module.__name__ + "."))
            if not inside or name.startswith("_"):
                continue
            if any(p.kind is p.KEYWORD_ONLY for p in inspect.signature(func).parameters.values()):
                out[f"{module.__name__}.{name}"] = func
    return out


def _codes(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _codes(const)


def _project(obj: Any) -> bool:
    module = getattr(obj, "__module__", "") or ""
    return module.startswith(("ecrf.", "safety."))


def reached(func: Callable, *, owner: type | None = None, seen: set | None = None) -> set[Callable]:
    """Project functions ``func`` calls, transitively: names it loads from its globals, from
    modules it loads, from dicts of functions it loads, and methods of ``owner`` it names."""
    seen = set() if seen is None else seen
    func = inspect.unwrap(func)
    if func in seen or not hasattr(func, "__code__"):
        return set()
    seen.add(func)
    names = {n for code in _codes(func.__code__) for n in code.co_names}
    candidates: list[Any] = []
    for name in names:
        value = func.__globals__.get(name)
        if isinstance(value, types.ModuleType):
            candidates += [getattr(value, n) for n in names if hasattr(value, n)]
        elif isinstance(value, dict):
            candidates += list(value.values())
        elif value is not None:
            candidates.append(value)
        if owner is not None and isinstance(inspect.getattr_static(owner, name, None), types.FunctionType):
            candidates.append(getattr(owner, name))
    found = set()
    for candidate in candidates:
        if inspect.isfunction(candidate) and _project(candidate):
            found.add(candidate)
            found |= reached(candidate, owner=owner, seen=seen)
    # Closure cells: functions built by factories (build_viewset) capture their helpers.
    for cell in func.__closure__ or ():
        try:
            value = cell.cell_contents
        except ValueError:
            continue
        if inspect.isfunction(value) and _project(value):
            found.add(value)
            found |= reached(value, owner=owner, seen=seen)
    return found


def _guarded(func: Callable) -> bool:
    return inspect.unwrap(guard.assert_writable) in reached(func) or func is guard.assert_writable


def test_every_write_service_is_classified():
    services = write_services()
    classified = [GUARDED, set(SKIPS_LOCKED), set(NOT_GUARDED)]
    unclassified = sorted(set(services).difference(*classified))
    assert not unclassified, f"New write services: decide whether they write clinical data: {unclassified}"
    stale = sorted(set().union(*classified) - set(services))
    assert not stale, f"Classified but no longer services: {stale}"
    twice = sorted((GUARDED & set(NOT_GUARDED)) | (GUARDED & set(SKIPS_LOCKED)) | (set(SKIPS_LOCKED) & set(NOT_GUARDED)))
    assert not twice, f"Classified twice: {twice}"
    assert set(LISTENER_ONLY) <= set(NOT_GUARDED)


@pytest.mark.parametrize("dotted", sorted(GUARDED))
def test_every_clinical_write_service_reaches_the_guard(dotted):
    assert _guarded(write_services()[dotted]), f"{dotted} writes clinical data but never calls assert_writable"


@pytest.mark.parametrize("dotted", sorted(SKIPS_LOCKED))
def test_every_bulk_job_that_skips_locked_data_reaches_the_bulk_guard(dotted):
    assert inspect.unwrap(guard.locked_participant_ids) in reached(write_services()[dotted]), (
        f"{dotted} writes clinical data in bulk but never asks which participants are locked")


@pytest.mark.parametrize("dotted", sorted(LISTENER_ONLY))
def test_listener_only_consequences_run_only_inside_the_guarded_form_write(dotted):
    target = inspect.unwrap(write_services()[dotted])
    key = LISTENER_ONLY[dotted]
    assert any(target in reached(fn) for fn in listeners_for(key)), f"{dotted} is not a consequence of {key} writes"
    callers = sorted(name for name, func in write_services().items()
                     if name != dotted and name not in GUARDED and target in reached(func))
    assert not callers, f"{dotted} is also called by unguarded services: {callers}"
    urls = sorted(name for name, handlers in write_urls().items()
                  if any(target in reached(func, owner=owner) for func, owner in handlers))
    assert not urls, f"{dotted} is reached by write URLs other than through the form services: {urls}"
    # Listeners run only from ecrf.crf.listeners.written, and every service that calls it is
    # guarded (behaviour: test_ae_form_writes_refuse_under_a_lock_so_their_listener_never_runs).
    assert get_spec(key).key == key
    dispatchers = {name for name, func in write_services().items() if inspect.unwrap(written) in reached(func)}
    assert {"ecrf.crf.services.form_create", "ecrf.crf.services.form_update"} <= dispatchers <= GUARDED


# --- URLs -------------------------------------------------------------------------------------

WRITE_METHODS = ("post", "put", "patch", "delete")
# Write URLs that reach no clinical write service, with the reason.
NON_CLINICAL_URLS = {
    "accounts:login": "authentication", "accounts:logout": "authentication",
    "notification-read": "a user's inbox state", "notifications:mark-read": "a user's inbox state",
    "sofa:preview": "scores the posted SOFA values as a save would and writes nothing (a preview)",
    "set_language": "the interface language, kept in a cookie",
}


def _walk(resolver: URLResolver, namespace: str | None = None) -> Iterator[tuple[str, Any]]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue  # the admin writes through the services (ecrf/crf/admin.py; tested there)
            inner = ":".join(n for n in (namespace, entry.namespace) if n) or None
            yield from _walk(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield (f"{namespace}:{entry.name}" if namespace else entry.name), entry.callback


def write_urls() -> dict[str, list[tuple[Callable, type | None]]]:
    """Every URL that accepts a write method -> its handlers (function, owning class)."""
    out: dict[str, list[tuple[Callable, type | None]]] = {}
    for name, callback in _walk(get_resolver()):
        actions = getattr(callback, "actions", None)
        cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        if actions:
            handlers = [(getattr(cls, h), cls) for m, h in actions.items() if m in WRITE_METHODS]
        elif cls is not None:
            handlers = [(getattr(cls, m), cls) for m in WRITE_METHODS if hasattr(cls, m)]
        else:
            func = inspect.unwrap(callback)
            handlers = [(func, None)] if "POST" in inspect.getsource(func) else []
        if handlers:
            out[name] = handlers
    return out


def test_every_write_url_reaches_only_classified_services():
    services = {g: dotted for dotted, f in write_services().items() for g in (f, inspect.unwrap(f))}
    urls = write_urls()
    assert "preparation-list" in urls and "test-vitals-list" in urls and "crf:form-new" in urls
    problems = []
    for name, handlers in sorted(urls.items()):
        touched = set()
        refuses_delete = False
        for func, owner in handlers:
            calls = reached(func, owner=owner)
            touched |= {services[f] for f in calls if f in services}
            refuses_delete |= func.__name__ == "destroy"
        clinical = touched - set(NOT_GUARDED)
        if name in NON_CLINICAL_URLS:
            if clinical:
                problems.append(f"{name} is listed as not clinical but reaches {sorted(clinical)}")
        elif not touched and not refuses_delete:
            problems.append(f"{name} accepts writes but reaches no classified service")
    assert not problems, problems


# --- behaviour under a lock ---------------------------------------------------------------------

def _lock(participant: Participant, level: str) -> LockScope:
    kwargs = {"participant": participant} if level == "participant" else (
        {"site": participant.site} if level == "site" else {})
    return LockScope.objects.create(level=level, kind="lock", reason="test", **kwargs)


def _refused(call: Callable[[], Any]) -> None:
    with pytest.raises(DomainError) as info:
        call()
    assert info.value.status == 409 and info.value.code == ErrorCode.LOCKED


@pytest.fixture
def vitals(coordinator, participant_a):
    return form_create(actor=coordinator, spec=VITALS, participant=participant_a, submit=True,
                       data={"measured_on": dt.date(2026, 11, 20), "temperature": "38.5", "heart_rate": 100})


@pytest.mark.django_db
@pytest.mark.parametrize("level", ["participant", "site", "study"])
def test_generic_form_routes_refuse_under_a_lock(api, coordinator, participant_a, vitals, level):
    _lock(participant_a, level)
    client = api(coordinator)
    base = f"/api/v1/{VITALS.slug}/"
    before = VITALS.model.history.count()
    attempts = [
        client.post(base, {"participant": participant_a.pk, "measured_on": "2026-11-21",
                                  "temperature": "37.0", "heart_rate": 80}, format="json"),
        client.patch(f"{base}{vitals.pk}/", {"heart_rate": 70, "expected_version": vitals.version, "reason": "x"}, format="json"),
        client.post(f"{base}{vitals.pk}/retract/", {"expected_version": vitals.version, "reason": "x"}, format="json"),
        client.post(f"{base}{vitals.pk}/not-done/", {"expected_version": vitals.version, "reason": "x"}, format="json"),
        client.post(f"{base}{vitals.pk}/submit/", {"expected_version": vitals.version, "reason": "x"}, format="json"),
    ]
    assert [r.status_code for r in attempts] == [409] * 5, [r.content for r in attempts]
    assert all(r.json()["error"]["code"] == "locked" for r in attempts)
    assert client.delete(f"{base}{vitals.pk}/").status_code >= 400
    assert VITALS.model.history.count() == before


@pytest.mark.django_db
def test_participant_services_refuse_under_a_lock(coordinator, participant_a, site_a):
    _lock(participant_a, "participant")
    _refused(lambda: participant_mark_randomized(participant=participant_a, subject_id="A-999",
                                                 randomized_at=dt.datetime(2026, 11, 20, tzinfo=dt.UTC), actor=coordinator))
    LockScope.objects.create(level="site", kind="freeze", site=site_a, reason="test")
    _refused(lambda: participant_create(actor=coordinator, site=site_a, screening_number="A-NEW"))
    assert not Participant.objects.filter(screening_number="A-NEW").exists()


@pytest.fixture
def randomized(users, site_a, allocation):  # noqa: F811
    participant = eligible_participant(users[Role.COORDINATOR], users[Role.LAB], site_a, "A-G1")
    participant_randomize(actor=users[Role.COORDINATOR], participant=participant)
    participant.refresh_from_db()
    return participant


@pytest.mark.django_db
def test_randomize_refuses_under_a_lock(users, site_a, allocation):  # noqa: F811
    participant = eligible_participant(users[Role.COORDINATOR], users[Role.LAB], site_a, "A-G2")
    _lock(participant, "participant")
    _refused(lambda: participant_randomize(actor=users[Role.COORDINATOR], participant=participant))
    assert not Assignment.objects.filter(participant_id=participant.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("level", ["participant", "site", "study"])
def test_pharmacy_preparations_refuse_under_a_lock(api, users, randomized, level):
    pharmacist = users[Role.PHARMACIST]
    need = {r.route: r for r in worklist(pharmacist, [randomized])[0].requirements}["iv"]
    done = preparation_record(actor=pharmacist, participant=randomized, route="iv", product=need.product, lot="L0")
    lock = _lock(randomized, level)
    response = api(pharmacist).post("/api/v1/preparations/", {"participant": randomized.pk, "route": "iv",
                                                              "product": need.product, "lot": "L1"}, format="json")
    assert response.status_code == 409, response.content
    assert response.json()["error"]["code"] == "locked"
    _refused(lambda: preparation_record(actor=pharmacist, participant=randomized, route="iv",
                                        product=need.product, lot="L1"))
    _refused(lambda: preparation_retract(actor=pharmacist, preparation=done, reason="wrong lot", version=done.version))
    _refused(lambda: preparation_record_day(actor=pharmacist, participant=randomized, lots={"iv": "L2", "sc": "L3"},
                                            counts={"iv": 1, "sc": 1}))
    assert list(Preparation.objects.values_list("lot", "status")) == [("L0", done.status)]
    assert lock.is_active


@pytest.mark.django_db
def test_allocation_lists_refuse_under_a_study_lock(users, participant_a):
    _lock(participant_a, "study")
    statistician = users[Role.STATISTICIAN]
    _refused(lambda: allocation_list_generate(actor=statistician, seed="s", slots_per_stratum=4))
    _refused(lambda: allocation_list_import(actor=statistician, filename="l.csv", content=b"stratum,sequence\n"))
    assert not AllocationList.objects.exists()


@pytest.mark.django_db
def test_system_deviation_refuses_under_a_lock(participant_a):
    _lock(participant_a, "participant")
    _refused(lambda: deviation_raise_system(participant=participant_a, rule_code="T1", category="other",
                                            description="test", occurred_on=dt.date(2026, 11, 20)))


@pytest.mark.django_db
def test_screening_and_consent_services_refuse_under_a_lock(users, site_a):
    coordinator = users[Role.COORDINATOR]
    form = screen(coordinator, site_a, "A-L1")
    participant = form.participant
    given = consent(coordinator, participant, by="representative")
    _lock(participant, "participant")
    # A reassessment that changes nothing writes nothing; a change would pass the guard first.
    assert screening_reassess(participant=participant, actor=coordinator, cause="test") is not None
    _refused(lambda: consent_record_patient_decision(actor=coordinator, consent=given, decision="confirmed",
                                                     decided_at=timezone.now(), version=given.version))
    _refused(lambda: consent_withdraw(actor=coordinator, consent=given, withdrawal_type="treatment",
                                      withdrawn_on=timezone.now().date(), version=given.version))
    assert Consent.objects.get(pk=given.pk).version == given.version
    _lock(participant, "site")
    _refused(lambda: screening_register(actor=coordinator, site=site_a, screening_number="A-L2",
                                        data=screening_data(), submit=True))
    assert not Participant.objects.filter(screening_number="A-L2").exists()


# --- safety: clinical data refuses under a lock; its consequences never run -----------------------

def _safety_counts() -> dict[str, int]:
    """Rows and history rows of the AE and everything its write listener writes."""
    models = (AdverseEvent, SAEReport, Clock, PvClock, Adjudication, AdjudicationReview)
    return {**{m.__name__: m.objects.count() for m in models},
            **{f"{m.__name__} history": m.history.count() for m in models}}


@pytest.mark.django_db
@pytest.mark.parametrize("level", ["participant", "site", "study"])
def test_ae_form_writes_refuse_under_a_lock_so_their_listener_never_runs(api, users, participant_a, make_ae, level):  # noqa: F811
    investigator = users[Role.INVESTIGATOR]
    ae = make_ae(**SERIOUS)  # before the lock: its SAE report, 24-hour clock and adjudication exist
    assert SAEReport.objects.filter(adverse_event=ae).exists()
    scope = _lock(participant_a, level)
    before = _safety_counts()
    client = api(investigator)
    base = f"/api/v1/{AE_SPEC.slug}/"
    payload = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in ae_data(**SERIOUS).items()}
    attempts = [
        client.post(base, {"participant": participant_a.pk, **payload, "submit": True}, format="json"),
        client.patch(f"{base}{ae.pk}/", {"grade": 4, "expected_version": ae.version, "reason": "worse"}, format="json"),
        client.post(f"{base}{ae.pk}/retract/", {"expected_version": ae.version, "reason": "x"}, format="json"),
    ]
    assert [r.status_code for r in attempts] == [409] * 3, [r.content for r in attempts]
    assert all(r.json()["error"]["code"] == "locked" for r in attempts)
    _refused(lambda: form_update(actor=investigator, spec=AE_SPEC, form=ae, version=ae.version, reason="worse",
                                 data={"grade": 4}))
    _refused(lambda: form_retract(actor=investigator, spec=AE_SPEC, form=ae, version=ae.version, reason="x"))
    assert _safety_counts() == before  # no AE change, so no report, clock or adjudication change
    # The lock alone held it back: after the audited unlock the same change follows through.
    scope.released_at = timezone.now()
    scope._change_reason = "audited unlock for the test"
    scope.save()
    form_update(actor=investigator, spec=AE_SPEC, form=ae, version=ae.version, reason="worse", data={"grade": 4})
    after = _safety_counts()
    assert after["AdverseEvent history"] > before["AdverseEvent history"]
    assert after["SAEReport history"] > before["SAEReport history"]


def _stored_death(participant: Participant) -> None:
    """A submitted Death form stored without its listener: the AEs' check is then out of date, as
    it would be for a death recorded just before a lock (test setup only)."""

    death = Death(participant=participant, died_at=dt.datetime(2025, 6, 3, 14, tzinfo=dt.UTC), cause="shock",
                  status=EntryStatus.SUBMITTED)
    death._change_reason = "test setup"
    death.save()


FATAL = {"grade": 5, "outcome": "fatal", "serious": True, "serious_death": True, "verbatim_term": "Fatal GI bleeding",
         "llt_code": 94000004, "end_date": dt.date(2025, 6, 3)}


@pytest.mark.django_db
@pytest.mark.parametrize("level", ["participant", "site", "study"])
def test_the_death_recheck_refuses_to_change_a_locked_ae(make_participant, users, make_ae, level):  # noqa: F811
    participant = make_participant(randomized_at=dt.datetime(2025, 5, 30, 8, tzinfo=dt.UTC), subject_id="A-DR1")
    ae = make_ae(participant=participant, **FATAL)
    assert "no death is recorded" in ae.death_check
    _stored_death(participant)
    scope = _lock(participant, level)
    history = ae.history.count()
    _refused(lambda: ae_death_recheck(participant=participant, actor=users[Role.INVESTIGATOR]))
    assert AdverseEvent.objects.get(pk=ae.pk).death_check == ae.death_check and ae.history.count() == history
    scope.released_at = timezone.now()
    scope._change_reason = "audited unlock for the test"
    scope.save()
    assert ae_death_recheck(participant=participant, actor=users[Role.INVESTIGATOR]) == 1


@pytest.mark.django_db
def test_a_death_form_that_would_change_a_frozen_ae_is_refused(api, make_participant, users, make_ae):  # noqa: F811
    participant = make_participant(randomized_at=dt.datetime(2025, 5, 30, 8, tzinfo=dt.UTC), subject_id="A-DR2")
    ae = make_ae(participant=participant, **FATAL)
    LockScope.objects.create(level="form", kind="freeze", form_type=ContentType.objects.get_for_model(AdverseEvent),
                             form_id=ae.pk, reason="AE frozen after verification")
    history = ae.history.count()
    _refused(lambda: form_create(actor=users[Role.INVESTIGATOR], spec=DEATH, participant=participant, submit=True,
                                 data={"died_at": dt.datetime(2025, 6, 3, 14, tzinfo=dt.UTC), "cause": "Shock"}))
    response = api(users[Role.INVESTIGATOR]).post(
        f"/api/v1/{DEATH.slug}/", {"participant": participant.pk, "died_at": "2025-06-03T14:00:00Z", "cause": "Shock",
                                    "submit": True}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "locked", response.content
    assert not Death.objects.filter(participant=participant).exists()
    assert AdverseEvent.objects.get(pk=ae.pk).death_check == ae.death_check and ae.history.count() == history


REVIEW = {"serious": True, "related_iv": True, "related_sc": False, "expected": False, "llt_code": 94000004,
          "special_interest": "bleeding"}


@pytest.mark.django_db
@pytest.mark.parametrize("level", ["participant", "site", "study"])
def test_adjudication_reviews_refuse_under_a_lock(api, make_user, participant_a, make_ae, level):  # noqa: F811
    first, second = make_user(Role.SAFETY_OFFICER), make_user(Role.SAFETY_OFFICER)
    adj = Adjudication.objects.get(adverse_event=make_ae(**SERIOUS))
    adjudication_review_submit(actor=first, adjudication=adj, data=REVIEW)  # before the lock
    _lock(participant_a, level)
    before = _safety_counts()
    _refused(lambda: adjudication_review_submit(actor=second, adjudication=adj, data=REVIEW))
    response = api(second).post(f"/api/v1/adjudications/{adj.pk}/review/", REVIEW, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "locked", response.content
    page = Client()
    page.force_login(second)
    form = {k: ("yes" if v is True else "no" if v is False else v) for k, v in REVIEW.items()}
    response = page.post(f"/safety/adjudication/{adj.pk}/", form)
    assert response.status_code == 200 and "is locked" in response.content.decode()
    assert _safety_counts() == before
    adj.refresh_from_db()
    assert adj.status == AdjudicationStatus.OPEN and adj.final is None
