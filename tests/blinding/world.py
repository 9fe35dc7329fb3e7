"""One trial world, built by the same sequence of operations every time, at the same frozen
instants: only the allocation list (and so every arm, and whatever follows from an arm) differs
between two builds.

Blinded site staff, the central laboratory and the safety officers write through the HTTP
endpoints (their responses are part of what the test compares); the unblinded roles
(statistician, pharmacists, pharmacovigilance) and the emergency unblinder act through their
services. Every clinical object belongs to a randomized participant, of both phenotypes and at
two sites, except the screening forms of one eligible participant who was not randomized and of
one screen failure.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from ecrf.accounts.roles import UNBLINDED_ROLES, Role
from ecrf.accounts.services import user_create
from ecrf.crf.models import Participant
from ecrf.exports.services import export_job_run, export_request
from ecrf.pharmacy.services import preparation_record
from ecrf.pharmacy.supply import PharmacyPreparation
from ecrf.queries.models import RunTrigger
from ecrf.queries.services import checks_run
from ecrf.randomization.models import Assignment
from ecrf.randomization.services import allocation_list_generate
from ecrf.randomization.unblinding import participant_emergency_unblind
from ecrf.review.services import scope_lock, scope_unlock
from ecrf.sofa.synthetic import raw_values
from ecrf.study.models import Site, Study
from ecrf.study.protocol import DEFAULT_PROTOCOL
from safety.meddra import ensure_demo_dictionary
from safety.models import Adjudication, Clock, ExpeditedAssessment, SAEReport
from safety.services import clocks_evaluate, susar_unblind_and_decide
from tests.support.screening import consent, eligible_participant, screen

if TYPE_CHECKING:
    from tests.blinding.capture import Recorder

PASSWORD = "Counterfactual-Password-9"
# Randomization happens at T0 (a Monday morning in both site zones); everything else is placed
# relative to it, and the clock stands still between two moves.
T0 = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)
LAB_CSV_HEADER = ("site,screening_number,ferritin,ferritin_unit,ferritin_sampled_at,ferritin_resulted_at,hla_dr,"
                  "hla_dr_sampled_at,hla_dr_resulted_at\n")
BLINDED_ROLES = tuple(r for r in Role.values if r not in UNBLINDED_ROLES)
SITE_ROLES = {Role.INVESTIGATOR, Role.COORDINATOR, Role.MONITOR, Role.PHARMACIST}


@dataclass
class World:
    viewers: dict[str, Any]  # role -> the user who walks every URL in that role
    participants: list[Participant]  # randomized, in randomization order
    # Users whose inbox and e-mail may legitimately depend on the arm.
    unblinded_users: list[Any] = field(default_factory=list)
    unblinded_emails: set[str] = field(default_factory=set)
    randomized_html: Participant | None = None  # randomized through the page (its message compared)


def _user(username: str, role: str, sites: list[Site], **extra: Any) -> Any:
    return user_create(actor=None, username=username, roles=[role], site_codes=[s.code for s in sites],
                       password=PASSWORD, email=f"{username}@example.org", **extra)[0]


def _iso(value: dt.datetime) -> str:
    return value.isoformat()


def build_world(rec: Recorder) -> World:
    rec.at(T0 - dt.timedelta(days=1))
    with rec.step():
        ensure_demo_dictionary()
        Study.objects.create(code="CF", title="Counterfactual", time_zone="Europe/Athens",
                             safety_contact_email="safety-contact@example.org")
        site_a = Site.objects.create(code="A", name="Site A", country="GR", time_zone="Europe/Athens")
        site_b = Site.objects.create(code="B", name="Site B", country="NL", time_zone="Europe/Amsterdam")
        viewers = {role: _user(f"view-{role}", role, [site_a] if role in SITE_ROLES else [],
                               **({"is_lead_safety_officer": True} if role == Role.SAFETY_OFFICER else {}))
                   for role in Role.values}
        coord_a, coord_b = viewers[Role.COORDINATOR], _user("coord-b", Role.COORDINATOR, [site_b])
        investigator_a = viewers[Role.INVESTIGATOR]
        lab_user, officer = viewers[Role.LAB], viewers[Role.SAFETY_OFFICER]
        officer_2 = _user("safety-2", Role.SAFETY_OFFICER, [])
        unblinder = _user("inv-unblinder", Role.INVESTIGATOR, [site_a])
        pv, statistician = viewers[Role.PHARMACOVIGILANCE], viewers[Role.STATISTICIAN]
        pharmacists = {site_a.pk: viewers[Role.PHARMACIST], site_b.pk: _user("pharm-b", Role.PHARMACIST, [site_b])}
        allocation_list_generate(actor=statistician, seed="cf-seed", slots_per_stratum=8)

    # Screening (three hours before randomization), through the services the site uses.
    rec.at(T0 - dt.timedelta(minutes=10))
    plan = ((coord_a, site_a, "A-1", "MALS"), (coord_a, site_a, "A-2", "immunoparalysis"),
            (coord_a, site_a, "A-3", "MALS"), (coord_a, site_a, "A-4", "immunoparalysis"),
            (coord_b, site_b, "B-1", "MALS"), (coord_b, site_b, "B-2", "immunoparalysis"))
    screened = []
    with rec.step():
        for author, site, number, phenotype in plan:
            screened.append((author, eligible_participant(author, lab_user, site, number, phenotype)))
        eligible_participant(coord_a, lab_user, site_a, "A-5", "immunoparalysis")  # eligible, never randomized
        eligible_participant(coord_a, lab_user, site_a, "A-6", "neither")  # screen failure
        pending = consent(coord_a, screen(coord_a, site_a, "A-7").participant).participant  # its lab comes by file
    stamp = (T0 - dt.timedelta(minutes=40)).isoformat()
    rec.api(lab_user, "post", "/api/v1/lab-imports/",
            {"file": SimpleUploadedFile("lab.csv", (LAB_CSV_HEADER + f"A,{pending.screening_number},900,ng/mL,{stamp},{stamp},"
                                                    f"12000,{stamp},{stamp}\n").encode(), content_type="text/csv")},
            label="central-lab import", fmt="multipart")

    # Randomization: the first participant through the page (confirmation, message, redirect),
    # the others through the API.
    rec.at(T0)
    first_author, first = screened[0]
    rec.page(first_author, "get", f"/participants/{first.pk}/randomize/", label="randomize page")
    rec.page(first_author, "post", f"/participants/{first.pk}/randomize/", {"confirm": "1"}, label="randomize (page)")
    for n, (author, p) in enumerate(screened[1:], start=2):
        rec.at(T0 + dt.timedelta(minutes=n))
        rec.api(author, "post", f"/api/v1/participants/{p.pk}/randomize/", {}, label=f"randomize {p.screening_number}")
    participants = [Participant.objects.select_related("site").get(pk=p.pk) for _, p in screened]
    author_of = {p.pk: a for (a, _), p in zip(screened, participants, strict=True)}

    rec.at(T0 + dt.timedelta(minutes=20))
    with rec.step():
        for p in participants:
            assignment = Assignment.objects.get(participant_id=p.pk)
            for req in PharmacyPreparation().requirements(arm=assignment.slot.arm, phenotype=assignment.phenotype,
                                                          protocol=DEFAULT_PROTOCOL):
                preparation_record(actor=pharmacists[p.site_id], participant=p, route=req.route, product=req.product,
                                   lot=f"L-{req.route}")

    drafted: set[str] = set()

    def form(user: Any, slug: str, p: Participant, label: str, **data: Any) -> dict[str, Any]:
        """The first form of each kind: a draft through the API, then submitted (both responses
        compared); later ones are created submitted in one request."""
        if slug in drafted:
            return rec.api(user, "post", f"/api/v1/{slug}/", {"participant": p.pk, "submit": True, **data},
                           label=f"create and submit {label}")
        drafted.add(slug)
        created = rec.api(user, "post", f"/api/v1/{slug}/", {"participant": p.pk, **data}, label=f"create {label}")
        return rec.api(user, "post", f"/api/v1/{slug}/{created['id']}/submit/", {"expected_version": created["version"]},
                       label=f"submit {label}")

    # Day 1 to day 4: doses, SOFA days, labs, medications, a deviation, a new infection.
    rec.at(T0 + dt.timedelta(days=3, hours=6))
    rng = random.Random(7)
    for p in participants:
        author = author_of[p.pk]
        first_dose = p.randomized_at + dt.timedelta(minutes=30)
        for n in (1, 2):
            form(author, "administrations", p, f"IV dose {n} {p.screening_number}", route="iv", dose_number=n, given=True,
                 started_at=_iso(first_dose + dt.timedelta(hours=8 * (n - 1))), duration_minutes=30, volume_ml="20")
        form(author, "administrations", p, f"SC dose 1 {p.screening_number}", route="sc", dose_number=1, given=True,
             started_at=_iso(first_dose), duration_minutes=1, volume_ml="0.5")
        for day in (1, 2):
            values = raw_values({"respiration": 2, "coagulation": 1, "liver": 1, "cardiovascular": 1, "cns": 1, "renal": 2},
                                rng, set())
            form(author, "sofa", p, f"SOFA day {day} {p.screening_number}", day=day,
                 **{k: (str(v) if isinstance(v, Decimal) else v) for k, v in values.items()})
        sampled = p.randomized_at + dt.timedelta(days=1, hours=2)
        form(author, "labs", p, f"lab panel {p.screening_number}", day=2, sample_time=_iso(sampled), hemoglobin="10.4",
             hemoglobin_unit="g/dL", hemoglobin_low="12", hemoglobin_high="16", white_cells="14.1", white_cells_unit="10^9/L",
             platelets=180, platelets_unit="10^9/L", creatinine="1.3", creatinine_unit="mg/dL")
        form(lab_user, "central-labs", p, f"central lab day 2 {p.screening_number}", day=2, sample_time=_iso(sampled),
             ferritin=2400, ferritin_unit="ng/mL", hla_dr=8000)
        form(author, "medications", p, f"medication {p.screening_number}", drug="Meropenem", indication="Pneumonia", dose="1",
             dose_unit="g", route="iv", is_antimicrobial=True, started_on=str(p.randomized_at.date()),
             stopped_on=str(p.randomized_at.date() + dt.timedelta(days=2)))
        form(author, "deviations", p, f"deviation {p.screening_number}", category="assessment",
             description="Day-2 blood sample taken outside the window.", occurred_on=str(sampled.date()), found_by="site",
             impact="minor", corrective_action="Staff reminded of the sampling schedule.")
    a1, a2, a3, a4, b1, b2 = participants
    infection_a4 = form(coord_a, "infections", a4, "infection A-4", onset_date=str((T0 + dt.timedelta(days=2)).date()), infection_site="lung",
         organism="Klebsiella pneumoniae", diagnosed_by="culture")
    form(coord_b, "discontinuations", b2, "discontinuation B-2", route="both", discontinued_on=str((T0 + dt.timedelta(days=3)).date()),
         discontinuation_reason="participant_request")
    vitals_a1 = form(coord_a, "test-vitals", a1, "test vitals A-1", measured_on=str((T0 + dt.timedelta(days=1)).date()), temperature="38.4",
         heart_rate=110, notes="")

    # Adverse events: a non-serious one for everyone; serious ones with their SAE reports.
    onset = str((T0 + dt.timedelta(days=1)).date())
    aware = T0 + dt.timedelta(days=1, hours=3)
    base = {"onset_date": onset, "aware_at": _iso(aware), "causality_iv": "possible", "causality_sc": "possible"}
    for p in participants:
        form(author_of[p.pk], "adverse-events", p, f"AE rash {p.screening_number}", verbatim_term="Rash on trunk",
             llt_code=94000011, grade=2, outcome="recovering", **base)
    serious = {**base, "serious": True, "serious_hospitalisation": True, "grade": 3, "outcome": "recovering",
               "verbatim_term": "Melaena", "llt_code": 94000004, "bleeding": True, "bleeding_site": "upper GI",
               "bleeding_severity": "major"}
    # The potential SUSAR (A-2, immunoparalysis) and a second serious event (B-1, MALS).
    susar_ae = form(coord_a, "adverse-events", a2, "SAE A-2", **serious)
    other_ae = form(coord_b, "adverse-events", b1, "SAE B-1", **serious)

    rec.at(T0 + dt.timedelta(days=1, hours=9))
    for ae, author in ((susar_ae, coord_a), (other_ae, coord_b)):
        report = rec.api(author, "get", f"/api/v1/sae-reports/?adverse_event={ae['id']}", label=f"SAE report of {ae['id']}")
        item = report["results"][0] if isinstance(report, dict) and "results" in report else report[0]
        rec.api(author, "post", f"/api/v1/sae-reports/{item['id']}/submit/",
                {"expected_version": item["version"], "submitted_at": _iso(T0 + dt.timedelta(days=1, hours=8)),
                 "recipient": "Sponsor safety desk", "reference": f"SPN-{item['id']}"}, label=f"submit SAE report {item['id']}")

    # The safety officer assesses expectedness (blinded, through the page): unexpected and
    # related, so a potential SUSAR; pharmacovigilance unblinds it and decides by the arm.
    rec.at(T0 + dt.timedelta(days=2))
    rec.page(officer, "post", f"/safety/ae/{susar_ae['id']}/assess/",
             {"expected": "no", "rsi_reference": "Investigator's brochure v3", "sponsor_aware_at": "2026-03-03 12:00",
              "sponsor_causality_iv": "", "sponsor_causality_sc": ""}, label="assess expectedness")
    with rec.step():
        susar_unblind_and_decide(actor=pv, assessment=ExpeditedAssessment.objects.get(adverse_event_id=susar_ae["id"]),
                                 reason="Potential SUSAR", password=PASSWORD)

    # The SUSAR's participant dies of it: the AE becomes fatal, then the Death form.
    rec.at(T0 + dt.timedelta(days=3, hours=7))
    current = rec.api(coord_a, "get", f"/api/v1/adverse-events/{susar_ae['id']}/", label="AE before the fatal outcome")
    rec.api(coord_a, "patch", f"/api/v1/adverse-events/{susar_ae['id']}/",
            {"expected_version": current["version"], "grade": 5, "outcome": "fatal", "serious_death": True,
             "end_date": str((T0 + dt.timedelta(days=3)).date()), "reason": "The participant died of the event"},
            label="AE becomes fatal")
    form(coord_a, "deaths", a2, "death A-2", died_at=_iso(T0 + dt.timedelta(days=3, hours=2)), cause="Gastrointestinal bleeding")
    form(coord_a, "end-of-study", a2, "end of study A-2", disposition="died",
         disposition_date=str((T0 + dt.timedelta(days=3)).date()))

    # The next serious event: its report clock is listed to the safety officer.
    rec.at(T0 + dt.timedelta(days=3, hours=8))
    form(coord_a, "adverse-events", a3, "SAE A-3", **{**serious, "aware_at": _iso(T0 + dt.timedelta(days=3, hours=7))})

    # Adjudication of B-1's event by two agreeing safety officers (API).
    adjudication = Adjudication.objects.get(adverse_event_id=other_ae["id"])
    review = {"serious": True, "related_iv": True, "related_sc": False, "expected": False, "llt_code": 94000004,
              "special_interest": "bleeding", "comment": ""}
    for reviewer in (officer, officer_2):
        rec.api(reviewer, "post", f"/api/v1/adjudications/{adjudication.pk}/review/", review,
                label=f"review by {reviewer.username}")

    # Emergency unblinding of A-1 by another investigator (who is then not a blinded viewer).
    rec.at(T0 + dt.timedelta(days=3, hours=9))
    with rec.step():
        participant_emergency_unblind(actor=unblinder, participant=a1, reason="Anaphylaxis", password=PASSWORD)

    # The periodic clock job runs; the walk happens a day later, with clocks due and overdue.
    rec.at(T0 + dt.timedelta(days=4, hours=5))
    with rec.step():
        clocks_evaluate()
    # Day 28: the vital status of a survivor; the data manager freezes that form, and under the
    # freeze the monitor verifies it and the investigator signs it (the review URLs then have one
    # scope, one verification and one signature to walk).
    rec.at(T0 + dt.timedelta(days=27, hours=8))
    vital = form(coord_a, "vital-status", a4, "vital status day 28 A-4", day=28, vital_status="alive",
                 assessed_on=str((T0 + dt.timedelta(days=27)).date()))
    rec.api(viewers[Role.DATA_MANAGER], "post", "/api/v1/locks/", {"kind": "freeze", "level": "form", "form": "vital-status",
                                                                  "form_id": vital["id"], "reason": "Verified and frozen"},
            label="freeze vital status A-4")
    rec.api(viewers[Role.MONITOR], "post", "/api/v1/verifications/",
            {"form": "vital-status", "form_id": vital["id"], "expected_version": vital["version"]}, label="verify vital status A-4")
    rec.api(investigator_a, "post", "/api/v1/signatures/",
            {"participant": a4.pk, "form": "vital-status", "form_id": vital["id"], "expected": str(vital["version"]),
             "meaning": "approve", "password": PASSWORD}, label="sign vital status A-4")
    # Through the pages: the monitor verifies two fields of A-4's infection form, and the
    # investigator signs that one form (the walk then sees partial verification and a form's own
    # signature on the review pages and the form's page).
    rec.page(viewers[Role.MONITOR], "post", f"/review/participants/{a4.pk}/verification/",
             {"form_slug": "infections", "form_id": infection_a4["id"], "expected_version": infection_a4["version"],
              "scope": "fields", "fields": ["organism", "diagnosed_by"]}, label="verify two fields of infection A-4")
    rec.page(investigator_a, "post", f"/review/participants/{a4.pk}/sign/",
             {"form_slug": "infections", "form_id": infection_a4["id"], "expected": infection_a4["version"],
              "meaning": "review", "password": PASSWORD}, label="sign infection A-4 (page)")
    # Data queries: one raised by hand and released to the site, then one run of the edit checks.
    rec.at(T0 + dt.timedelta(days=27, hours=8, minutes=30))
    dm = viewers[Role.DATA_MANAGER]
    query = rec.api(dm, "post", "/api/v1/queries/", {"form": "testapp.vitals", "form_id": vitals_a1["id"],
                                                     "field": "heart_rate", "text": "Please confirm the heart rate."},
                    label="raise a query")
    rec.api(dm, "post", f"/api/v1/queries/{query['id']}/release/", {}, label="release the query")
    with rec.step():
        checks_run(trigger=RunTrigger.BEAT)
    # The study lock and its blinded package, then the audited unlock (the walk sees an unlocked
    # study): every blinded role's download of the package is compared byte for byte.
    rec.at(T0 + dt.timedelta(days=27, hours=8, minutes=45))
    with override_settings(STUDY_LOCK_GATE_CONDITIONS=[]):
        lock = scope_lock(actor=dm, level="study", reason="Final database lock")
    export_job_run(job_id=export_request(actor=viewers[Role.SPONSOR]).pk)
    scope_unlock(actor=dm, scope=lock, reason="Reopened after the export")
    rec.at(T0 + dt.timedelta(days=27, hours=9))
    assert SAEReport.objects.count() >= 3 and Clock.objects.exists()

    unblinded = [u for u in (*pharmacists.values(), pv, statistician, viewers[Role.DSMB], unblinder)]
    del investigator_a
    return World(viewers=viewers, participants=participants, unblinded_users=unblinded,
                 unblinded_emails={u.email for u in unblinded}, randomized_html=first)
