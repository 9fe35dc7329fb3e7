"""Reads of verification, signature and lock state, scoped to what the user may see.

The state of a verification or a signature is never stored: it is computed by comparing what
the record bound itself to (the form's version and the SHA-256 of its values) with the data as
it is now, so a change of the data shows at once, whatever path made it, and the record itself
stays as it was (ARCHITECTURE.md "Status is several things": voided by a later change).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet

from ecrf.accounts.roles import Role, user_roles
from ecrf.accounts.selectors import sites_visible_to
from ecrf.core.errors import not_found
from ecrf.crf.models import CRF, EntryStatus, LockScope, Participant
from ecrf.crf.registry import FormSpec, all_specs, spec_for_model, spec_for_slug
from ecrf.crf.selectors import form_get, participants_for
from ecrf.review import fingerprint, plan
from ecrf.review.models import Signature, SignatureLevel, Verification

# Who verifies source data: monitors (their assigned sites) and data managers (all sites).
VERIFY_ROLES = frozenset({Role.MONITOR, Role.DATA_MANAGER})
# Who signs: the investigators of the participant's site (21 CFR 11.50; ICH E6 4.9.3).
SIGN_ROLES = frozenset({Role.INVESTIGATOR})
# Who freezes, locks and unlocks: data managers only.
LOCK_ROLES = frozenset({Role.DATA_MANAGER})
# Who sees verification and signature state: the casebook's readers.
REVIEW_READ_ROLES = frozenset({Role.INVESTIGATOR, Role.COORDINATOR, Role.MONITOR, Role.DATA_MANAGER})


class VState:
    VERIFIED = "verified"
    PARTIAL = "partial"
    STALE = "stale"
    UNVERIFIED = "unverified"


VSTATE_LABELS = {VState.VERIFIED: "Verified", VState.PARTIAL: "Partly verified",
                 VState.STALE: "Verification stale (changed since verified)", VState.UNVERIFIED: "Not verified"}


# --- fingerprints -------------------------------------------------------------------------------

def form_values(spec: FormSpec, form: CRF, names: Iterable[str] | None = None) -> dict[str, Any]:
    """The user-entered values of ``names`` (default: all of ``spec.fields``) and the entry status."""
    out: dict[str, Any] = {}
    for name in names or spec.fields:
        out[name] = getattr(form, form._meta.get_field(name).attname)
    out["status"] = form.status
    return out


def form_hash(spec: FormSpec, form: CRF, names: Iterable[str] | None = None) -> str:
    return fingerprint.values_hash(form_values(spec, form, names))


def form_record(spec: FormSpec, form: CRF) -> dict[str, Any]:
    return {"key": spec.key, "id": form.pk, "version": form.version, "hash": form_hash(spec, form)}


def participant_forms(participant_ids: Iterable[int], *, drafts: bool = True) -> dict[int, list[tuple[FormSpec, CRF]]]:
    """Every form of these participants, of every registered form type (one query per type)."""
    ids = list(participant_ids)
    out: dict[int, list[tuple[FormSpec, CRF]]] = defaultdict(list)
    if not ids:
        return out
    for spec in all_specs():
        qs = spec.model.objects.filter(participant_id__in=ids).order_by("pk")
        if not drafts:
            qs = qs.exclude(status=EntryStatus.DRAFT)
        for form in qs:
            out[form.participant_id].append((spec, form))
    return out


def casebook_records(forms: list[tuple[FormSpec, CRF]]) -> list[dict[str, Any]]:
    """What a casebook signature covers: every form that is not a draft, at its current version."""
    return [form_record(spec, form) for spec, form in forms if form.status != EntryStatus.DRAFT]


# --- verification state -------------------------------------------------------------------------

def verification_current(row: Verification, spec: FormSpec, form: CRF) -> bool:
    """A whole-form verification holds while the form keeps that version and those values; a
    field verification while those fields (and the entry status) keep their values."""
    if row.fields:
        return form_hash(spec, form, row.fields) == row.values_hash
    return row.version == form.version and form_hash(spec, form) == row.values_hash


@dataclass
class FormReview:
    spec: FormSpec
    form: CRF
    requirement: str
    rows: list[Verification] = field(default_factory=list)
    state: str = VState.UNVERIFIED
    fields: dict[str, str] = field(default_factory=dict)  # field -> VState.VERIFIED / STALE
    latest: Verification | None = None
    whole: bool = False  # verified as a whole form, and that verification still holds
    covered: dict[str, Verification] = field(default_factory=dict)  # field -> the latest verification covering it

    @property
    def verified_fields(self) -> int:
        return sum(1 for name in self.spec.fields if self.fields.get(name) == VState.VERIFIED)

    @property
    def stale_fields(self) -> int:
        return sum(1 for name in self.spec.fields if self.fields.get(name) == VState.STALE)

    @property
    def total_fields(self) -> int:
        return len(self.spec.fields)

    @property
    def state_label(self) -> str:
        return VSTATE_LABELS[self.state]

    @property
    def requirement_label(self) -> str:
        return plan.REQUIREMENT_LABELS[self.requirement]

    @property
    def required(self) -> bool:
        return self.requirement != plan.Requirement.NONE and self.form.status == EntryStatus.SUBMITTED


def review_of(spec: FormSpec, form: CRF, rows: list[Verification]) -> FormReview:
    values = form_values(spec, form)
    review = FormReview(spec=spec, form=form, requirement=plan.requirement(spec.key, form.pk, values), rows=rows)
    if not rows:
        return review
    review.latest = rows[-1]
    for row in rows:
        for name in row.fields or spec.fields:
            review.covered[name] = row
    whole = [r for r in rows if not r.fields]
    if whole and verification_current(whole[-1], spec, form):
        review.state = VState.VERIFIED
        review.whole = True
        review.fields = dict.fromkeys(spec.fields, VState.VERIFIED)
        return review
    # Each field: the latest verification that covered it (whole form or that field) decides.
    for row in rows:
        for name in row.fields or spec.fields:
            review.fields[name] = VState.VERIFIED if verification_current(row, spec, form) else VState.STALE
    if all(review.fields.get(name) == VState.VERIFIED for name in spec.fields):
        review.state = VState.VERIFIED
    elif VState.STALE in review.fields.values():
        review.state = VState.STALE
    else:
        review.state = VState.PARTIAL
    return review


@dataclass(frozen=True)
class FieldReview:
    """One field of a form on the verification page: its label, its current value (the label of
    a coded value), and whether a verification covers it now (``VState``), by which record."""

    name: str
    label: str
    value: Any
    state: str
    row: Verification | None


def field_values(spec: FormSpec, form: CRF) -> list[tuple[str, str, Any]]:
    """(name, label, value as read: the label of a coded value) of the form's entered fields, in order."""
    out = []
    for name in spec.fields:
        display = getattr(form, f"get_{name}_display", None)
        out.append((name, str(form._meta.get_field(name).verbose_name), display() if display is not None else getattr(form, name)))
    return out


def field_reviews(review: FormReview) -> list[FieldReview]:
    """The form's entered fields in their order, each with its verification state (no query)."""
    return [FieldReview(name=name, label=label, value=value, state=review.fields.get(name, VState.UNVERIFIED),
                        row=review.covered.get(name)) for name, label, value in field_values(review.spec, review.form)]


def _verifications(participant_ids: Iterable[int]) -> dict[tuple[int, int], list[Verification]]:
    out: dict[tuple[int, int], list[Verification]] = defaultdict(list)
    for row in Verification.objects.filter(participant_id__in=list(participant_ids)).order_by("pk"):
        out[(row.form_type_id, row.form_id)].append(row)
    return out


def reviews_for_participants(participant_ids: Iterable[int]) -> dict[int, list[FormReview]]:
    """Each participant's forms (not drafts, not retracted) with their verification state, at a
    fixed query cost (one per form type and one for the verifications)."""
    ids = list(participant_ids)
    forms = participant_forms(ids, drafts=False)
    rows = _verifications(ids)
    out: dict[int, list[FormReview]] = defaultdict(list)
    for pid, found in forms.items():
        for spec, form in found:
            if form.status == EntryStatus.RETRACTED:
                continue
            ct = ContentType.objects.get_for_model(spec.model).pk
            out[pid].append(review_of(spec, form, rows.get((ct, form.pk), [])))
    return out


@dataclass
class Progress:
    required: int = 0
    verified: int = 0
    stale: int = 0

    @property
    def percent(self) -> int:
        return 100 if not self.required else int(100 * self.verified / self.required)

    def add(self, review: FormReview) -> None:
        if not review.required:
            return
        self.required += 1
        if review.state == VState.VERIFIED:
            self.verified += 1
        elif review.state == VState.STALE:
            self.stale += 1


def progress_of(reviews: Iterable[FormReview]) -> Progress:
    p = Progress()
    for r in reviews:
        p.add(r)
    return p


def sdv_participants_for(user: Any) -> QuerySet[Participant]:
    return participants_for(user, VERIFY_ROLES)


def site_progress(user: Any) -> list[tuple[Any, Progress, int]]:
    """(site, progress, participants) for every site the user verifies."""
    sites = sites_visible_to(user, VERIFY_ROLES)
    site_model = Participant._meta.get_field("site").related_model
    site_list = list((site_model.objects.all() if sites is None else sites).order_by("code"))
    participants = list(Participant.objects.filter(site__in=site_list).values_list("pk", "site_id"))
    reviews = reviews_for_participants([pk for pk, _ in participants])
    by_site: dict[int, Progress] = {s.pk: Progress() for s in site_list}
    counts: dict[int, int] = defaultdict(int)
    for pk, site_id in participants:
        counts[site_id] += 1
        for r in reviews.get(pk, []):
            by_site[site_id].add(r)
    return [(s, by_site[s.pk], counts[s.pk]) for s in site_list]


# --- signature state ----------------------------------------------------------------------------

def signature_void(sig: Signature, current_records: list[dict[str, Any]]) -> bool:
    """Void once anything it covers changed: a version, a value, or the set of records itself."""
    return fingerprint.manifest_hash(current_records) != sig.manifest_hash


@dataclass
class CasebookSignatureState:
    signature: Signature | None
    void: bool
    records: list[dict[str, Any]]
    drafts: list[tuple[FormSpec, CRF]]

    @property
    def signed(self) -> bool:
        return self.signature is not None and not self.void

    @property
    def manifest_hash(self) -> str:
        return fingerprint.manifest_hash(self.records)


def casebook_states(participant_ids: Iterable[int]) -> dict[int, CasebookSignatureState]:
    ids = list(participant_ids)
    forms = participant_forms(ids)
    latest: dict[int, Signature] = {}
    for sig in Signature.objects.filter(participant_id__in=ids, level=SignatureLevel.CASEBOOK).order_by("pk"):
        latest[sig.participant_id] = sig
    out = {}
    for pid in ids:
        found = forms.get(pid, [])
        records = casebook_records(found)
        sig = latest.get(pid)
        out[pid] = CasebookSignatureState(signature=sig, void=sig is not None and signature_void(sig, records),
                                          records=records, drafts=[(s, f) for s, f in found if f.status == EntryStatus.DRAFT])
    return out


def signatures_for(user: Any, participant: Participant) -> list[tuple[Signature, bool]]:
    """The participant's signatures, oldest first, each with whether it is void now."""
    sigs = list(Signature.objects.filter(participant=participant).select_related("signer").order_by("pk"))
    if not sigs:
        return []
    forms = participant_forms([participant.pk]).get(participant.pk, [])
    records = casebook_records(forms)
    by_form = {(ContentType.objects.get_for_model(s.model).pk, f.pk): (s, f) for s, f in forms}
    out = []
    for sig in sigs:
        if sig.level == SignatureLevel.CASEBOOK:
            out.append((sig, signature_void(sig, records)))
        else:
            target = by_form.get((sig.form_type_id, sig.form_id))
            out.append((sig, target is None or signature_void(sig, [form_record(*target)])))
    return out


@dataclass(frozen=True)
class FormSignatureState:
    """A form's latest form-level signature and whether a change since voided it."""

    signature: Signature
    void: bool

    @property
    def signed(self) -> bool:
        return not self.void


def form_signature_states(forms: list[tuple[FormSpec, CRF]]) -> dict[tuple[int, int], FormSignatureState]:
    """(content type id, form id) -> the latest form-level signature of each of these forms (one
    participant's or several), at one query for the signatures."""
    if not forms:
        return {}
    by_key = {(ContentType.objects.get_for_model(s.model).pk, f.pk): (s, f) for s, f in forms}
    latest: dict[tuple[int, int], Signature] = {}
    found = (Signature.objects.filter(participant_id__in={f.participant_id for _, f in forms}, level=SignatureLevel.FORM)
             .select_related("signer").order_by("pk"))
    for sig in found:
        if (sig.form_type_id, sig.form_id) in by_key:
            latest[(sig.form_type_id, sig.form_id)] = sig
    return {key: FormSignatureState(sig, signature_void(sig, [form_record(*by_key[key])])) for key, sig in latest.items()}


def form_signatures(spec: FormSpec, form: CRF) -> list[tuple[Signature, bool]]:
    """One form's own signatures, oldest first, each with whether it is void now."""
    sigs = (Signature.objects.filter(level=SignatureLevel.FORM, form_type=ContentType.objects.get_for_model(spec.model),
                                     form_id=form.pk).select_related("signer").order_by("pk"))
    record = [form_record(spec, form)]
    return [(sig, signature_void(sig, record)) for sig in sigs]


# --- lookups ------------------------------------------------------------------------------------

def reviewable_form_get(user: Any, slug: str, pk: Any, roles: frozenset[str]) -> tuple[FormSpec, CRF]:
    """A form the user may review (verify or sign) by its slug and id; 404 when not visible."""
    spec = spec_for_slug(str(slug or ""))
    if spec is None or not (user_roles(user) & roles):
        raise not_found("form")
    form = form_get(user, spec, pk)
    if not participants_for(user, roles).filter(pk=form.participant_id).exists():
        raise not_found("form")
    return spec, form


def spec_of(form: CRF) -> FormSpec:
    spec = spec_for_model(type(form))
    if spec is None:
        raise not_found("form")
    return spec


def scopes_for(user: Any) -> QuerySet[LockScope]:
    return LockScope.objects.select_related("site", "participant", "set_by", "released_by", "form_type").order_by("-pk")


def study_lock_current() -> LockScope | None:
    """The active study lock: the event the locked export package starts from (its id, time, who, label)."""
    return (LockScope.objects.filter(level="study", kind="lock", released_at__isnull=True)
            .select_related("set_by").order_by("pk").first())


def lock_covering(participant: Participant, form: CRF | None = None) -> LockScope | None:
    """An active LOCK (not a freeze) over this participant's data or this form."""
    condition = Q(level="study") | Q(level="site", site_id=participant.site_id) | Q(level="participant", participant_id=participant.pk)
    if form is not None:
        condition |= Q(level="form", form_type=ContentType.objects.get_for_model(form), form_id=form.pk)
    else:
        # A casebook covers each of its forms: a lock of any one of them covers the casebook.
        condition |= Q(level="form", participant_id=participant.pk)
    return LockScope.objects.filter(condition, kind="lock", released_at__isnull=True).order_by("pk").first()
