"""Review pages: the lock console (data managers), the monitor's verification page of a
participant, verification progress per site, and the investigator's signing page. Thin: parse
input, call one service or selector, render. They work without JavaScript."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ecrf.accounts.roles import user_roles
from ecrf.core.errors import DomainError, forbidden, not_found
from ecrf.crf.models import EntryStatus, LockScope
from ecrf.crf.selectors import participant_get, participants_for
from ecrf.review import gate, selectors, services
from ecrf.review.forms import FormSignForm, ScopeForm, SignForm, UnlockForm, VerifyForm
from ecrf.review.models import SignatureMeaning
from ecrf.study.models import Site


def _require(user: Any, roles: frozenset[str], message: str) -> None:
    if not user_roles(user) & roles:
        raise forbidden(message)


def _place(error: DomainError, form: Any) -> None:
    for name, errors in error.fields.items():
        target = name if name in form.fields else None
        for e in errors:
            form.add_error(target, e)
    form.add_error(None, error.message)


# --- lock console -------------------------------------------------------------------------------

def _console(request: HttpRequest, *, form: ScopeForm | None = None, unlock_form: UnlockForm | None = None,
             refused: list[gate.Blocker] | None = None, status: int = 200) -> HttpResponse:
    sites = list(Site.objects.order_by("code"))
    participants = list(participants_for(request.user, selectors.LOCK_ROLES).order_by("site__code", "pk"))
    scopes = list(selectors.scopes_for(request.user))
    found = gate.blockers()
    labels = gate.CONDITION_LABELS
    applied = gate.applied_conditions()
    return render(request, "review/locks.html", {
        "form": form or ScopeForm(sites=sites, participants=participants),
        "unlock_form": unlock_form or UnlockForm(),
        "active": [s for s in scopes if s.is_active], "released": [s for s in scopes if not s.is_active],
        "blockers": found, "refused": refused, "condition_labels": labels,
        "conditions": [(code, label, applied is None or code in applied) for code, label in labels.items()],
        "study_lock": selectors.study_lock_current(),
    }, status=status)


def _target(request: HttpRequest, data: dict[str, Any]) -> dict[str, Any]:
    level = data["level"]
    if level == "site":
        site = Site.objects.filter(pk=data.get("site") or 0).first()
        return {"site": site}
    if level == "participant":
        return {"participant": participant_get(request.user, data.get("participant") or 0, selectors.LOCK_ROLES)
                if data.get("participant") else None}
    if level == "form":
        slug, _sep, pk = (data.get("form_ref") or "").strip().partition("/")
        if not slug:
            return {"form": None}
        return {"form": selectors.reviewable_form_get(request.user, slug, pk, selectors.LOCK_ROLES)[1]}
    return {}


@login_required
def locks(request: HttpRequest) -> HttpResponse:
    _require(request.user, selectors.LOCK_ROLES, _("Only data managers freeze, lock and unlock data."))
    if request.method != "POST":
        return _console(request)
    sites = list(Site.objects.order_by("code"))
    participants = list(participants_for(request.user, selectors.LOCK_ROLES).order_by("site__code", "pk"))
    form = ScopeForm(request.POST, sites=sites, participants=participants)
    if not form.is_valid():
        return _console(request, form=form, status=400)
    data = form.cleaned_data
    service = services.scope_lock if data["kind"] == "lock" else services.scope_freeze
    try:
        scope = service(actor=request.user, level=data["level"], reason=data["reason"], request=request,
                        **_target(request, data))
    except gate.GateBlocked as exc:
        _place(exc, form)
        return _console(request, form=form, refused=exc.blockers, status=409)
    except DomainError as exc:
        if exc.status == 404:
            raise
        _place(exc, form)
        return _console(request, form=form, status=exc.status)
    messages.success(request, _("%(what)s set (scope #%(pk)s).") % {"what": scope.get_kind_display(), "pk": scope.pk})
    return redirect("review:locks")


@login_required
@require_POST
def unlock(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request.user, selectors.LOCK_ROLES, _("Only data managers unlock data."))
    scope = LockScope.objects.filter(pk=pk).first()
    if scope is None:
        raise not_found("freeze or lock")
    form = UnlockForm(request.POST)
    if not form.is_valid():
        return _console(request, unlock_form=form, status=400)
    try:
        services.scope_unlock(actor=request.user, scope=scope, reason=form.cleaned_data["reason"], request=request)
    except DomainError as exc:
        _place(exc, form)
        return _console(request, unlock_form=form, status=exc.status)
    messages.success(request, _("Scope #%(pk)s released.") % {"pk": scope.pk})
    return redirect("review:locks")


# --- source data verification -------------------------------------------------------------------

def _refusal(error: DomainError) -> str:
    """The service's message with its per-field details (e.g. which name is not a field of the form)."""
    details = [e for errors in error.fields.values() for e in errors]
    return " ".join([error.message, *details])


def _sdv_page(request: HttpRequest, participant: Any, *, error: str = "", status: int = 200) -> HttpResponse:
    reviews = selectors.reviews_for_participants([participant.pk]).get(participant.pk, [])
    # Each row's hidden inputs carry the version shown, so a change made meanwhile is refused (409).
    rows = [{"review": r, "fields": selectors.field_reviews(r),
             "form": VerifyForm(auto_id=False, initial={"form_slug": r.spec.slug, "form_id": r.form.pk,
                                                        "expected_version": r.form.version})} for r in reviews]
    return render(request, "review/participant_sdv.html", {
        "participant": participant, "rows": rows, "progress": selectors.progress_of(reviews), "error": error,
    }, status=status)


@login_required
def participant_sdv(request: HttpRequest, pk: int) -> HttpResponse:
    """The monitor's verification page of one participant: each form verified whole (the
    "Verify" button) or field by field (the ticked fields, ``scope=fields``), bound to the
    version the page showed."""
    _require(request.user, selectors.VERIFY_ROLES, _("Only monitors and data managers verify source data."))
    participant = participant_get(request.user, pk, selectors.VERIFY_ROLES)
    if request.method != "POST":
        return _sdv_page(request, participant)
    form = VerifyForm(request.POST)
    if not form.is_valid():
        return _sdv_page(request, participant, error=_("Choose a form to verify."), status=400)
    data = form.cleaned_data
    spec, target = selectors.reviewable_form_get(request.user, data["form_slug"], data["form_id"], selectors.VERIFY_ROLES)
    if target.participant_id != participant.pk:
        raise not_found("form")
    names = data["fields"]
    by_fields = data["scope"] == VerifyForm.SCOPE_FIELDS or (not data["scope"] and bool(names))
    what = {"form": spec.label, "pk": target.pk}
    if by_fields and not names:
        return _sdv_page(request, participant, status=400, error=_(
            "%(form)s #%(pk)s: tick the fields you verified, or verify the whole form; nothing was recorded.") % what)
    try:
        services.form_verify(actor=request.user, spec=spec, form=target, version=data["expected_version"],
                             fields=names if by_fields else None)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return _sdv_page(request, participant, error=f"{spec.label} #{target.pk}: {_refusal(exc)}", status=exc.status)
    if by_fields:
        labels = ", ".join(str(spec.model._meta.get_field(n).verbose_name) for n in dict.fromkeys(names))
        messages.success(request, _("%(form)s #%(pk)s: fields verified: %(fields)s.") % {**what, "fields": labels})
    else:
        messages.success(request, _("%(form)s #%(pk)s verified.") % what)
    return redirect("review:participant-sdv", pk=participant.pk)


@login_required
def progress(request: HttpRequest) -> HttpResponse:
    _require(request.user, selectors.VERIFY_ROLES, _("Only monitors and data managers follow verification progress."))
    participants = list(selectors.sdv_participants_for(request.user).order_by("site__code", "pk"))
    reviews = selectors.reviews_for_participants([p.pk for p in participants])
    return render(request, "review/progress.html", {
        "sites": selectors.site_progress(request.user),
        "participants": [(p, selectors.progress_of(reviews.get(p.pk, []))) for p in participants],
    })


# --- signing ------------------------------------------------------------------------------------

def _signable(form: Any) -> bool:
    return form.status in (EntryStatus.SUBMITTED, EntryStatus.NOT_DONE)


def _form_key(spec: Any, form: Any) -> tuple[int, int]:
    return (ContentType.objects.get_for_model(spec.model).pk, form.pk)


def _post_signature(request: HttpRequest, participant: Any, form: Any, *, target: Any = None) -> int | None:
    """Make the posted signature of the casebook (``target`` None) or of one form: None when it
    is made, else the status the page answers with (the form then carries the error)."""
    if not form.is_valid():
        return 400
    data = form.cleaned_data
    try:
        services.signature_create(actor=request.user, participant=participant, meaning=data["meaning"],
                                  password=data["password"], form=target, expected=data["expected"], request=request)
    except DomainError as exc:
        if exc.status == 404:
            raise
        _place(exc, form)
        return exc.status
    return None


@login_required
def sign(request: HttpRequest, pk: int) -> HttpResponse:
    """The investigator's signing page: the whole casebook, or with ``form_slug`` and ``form_id``
    (in the query or the posted form) one form of it."""
    _require(request.user, selectors.SIGN_ROLES, _("Only investigators sign casebooks and forms."))
    participant = participant_get(request.user, pk, selectors.SIGN_ROLES)
    source = request.POST if request.method == "POST" else request.GET
    if source.get("form_slug") or source.get("form_id"):
        return _sign_form(request, participant, source)
    state = selectors.casebook_states([participant.pk])[participant.pk]
    form = SignForm(request.POST or None, initial={"expected": state.manifest_hash})
    status = 200
    if request.method == "POST":
        status = _post_signature(request, participant, form)
        if status is None:
            messages.success(request, _("Casebook signed."))
            return redirect("review:sign", pk=participant.pk)
    found = selectors.participant_forms([participant.pk]).get(participant.pk, [])
    signed = selectors.form_signature_states(found)
    rows = [{"spec": spec, "form": f, "signature": signed.get(_form_key(spec, f)), "signable": _signable(f)}
            for spec, f in found]
    return render(request, "review/sign.html", {
        "participant": participant, "state": state, "form": form, "rows": rows,
        "signatures": selectors.signatures_for(request.user, participant),
    }, status=status)


def _sign_form(request: HttpRequest, participant: Any, source: Any) -> HttpResponse:
    """Sign one form: its values as they are now, the meaning in the form's words, the password."""
    spec, target = selectors.reviewable_form_get(request.user, source.get("form_slug"), source.get("form_id"),
                                                 selectors.SIGN_ROLES)
    if target.participant_id != participant.pk:
        raise not_found("form")
    form = FormSignForm(request.POST or None, initial={"meaning": SignatureMeaning.APPROVE})
    status = 200
    if request.method == "POST":
        status = _post_signature(request, participant, form, target=target)
        if status is None:
            messages.success(request, _("%(form)s #%(pk)s signed.") % {"form": spec.label, "pk": target.pk})
            query = urlencode({"form_slug": spec.slug, "form_id": target.pk})
            return redirect(f"{reverse('review:sign', args=[participant.pk])}?{query}")
    # Re-read: after a refusal the page shows the form as it is now, and its version is what a
    # new signature binds to (the hidden input below is rendered from it, not from the post).
    target = spec.model.objects.get(pk=target.pk)
    signatures = selectors.form_signatures(spec, target)
    latest = selectors.FormSignatureState(*signatures[-1]) if signatures else None
    return render(request, "review/sign_form.html", {
        "participant": participant, "spec": spec, "form_obj": target, "form": form, "signable": _signable(target),
        "values": selectors.field_values(spec, target), "signature": latest, "signatures": signatures,
    }, status=status)
