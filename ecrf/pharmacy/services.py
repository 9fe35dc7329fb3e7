"""Recording what the pharmacist prepared (own site only; no CRF entry)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone

from ecrf.pharmacy.errors import PharmacyError
from ecrf.core.errors import DomainError, ErrorCode, invalid
from ecrf.crf.guard import assert_writable
from ecrf.crf.models import Participant
from ecrf.pharmacy.models import Preparation, PreparationStatus, Product, Route
from ecrf.pharmacy.selectors import pharmacy_participant, worklist
from ecrf.study.services import current_protocol
from ecrf.pharmacy.supply import supply_mode

if TYPE_CHECKING:
    from ecrf.accounts.models import User


@transaction.atomic
def preparation_record(*, actor: User, participant: Participant, route: str, product: str, lot: str,
                       prepared_at: dt.datetime | None = None, dose: str = "", dose_number: int | None = None) -> Preparation:
    """One prepared dose. The product must be the one the participant's arm and phenotype need
    (the pharmacist is unblinded: this message may name it); the label is arm-free."""
    participant = pharmacy_participant(actor, participant.pk)  # 403 for non-pharmacists, 404 other sites
    # ARCHITECTURE.md invariant 5: a preparation is participant data; a freeze or lock refuses it.
    assert_writable(participant=participant)
    errors: dict[str, str] = {}
    if route not in Route.values:
        errors["route"] = f"Unknown route {route!r}; use iv or sc."
    if product not in Product.values:
        errors["product"] = f"Unknown product {product!r}."
    lot = (lot or "").strip()
    if not lot:
        errors["lot"] = "Give the lot number of the product used."
    prepared_at = prepared_at or timezone.now()
    if prepared_at > timezone.now() + dt.timedelta(minutes=5):
        errors["prepared_at"] = "The preparation time can't be in the future."
    if participant.randomized_at and prepared_at < participant.randomized_at:
        errors["prepared_at"] = "A dose can't be prepared before randomization."
    if errors:
        raise DomainError(ErrorCode.INVALID, next(iter(errors.values())), fields=errors)
    item = worklist(actor, [participant])[0]
    needed = {r.route: r for r in item.requirements}[route]
    if product != needed.product:
        raise invalid(f"This participant's {route.upper()} study drug is {Product(needed.product).label}, not "
                      f"{Product(product).label}.", product="Not this participant's product.")
    dose_number = dose_number or item.next_dose[route]
    if dose_number < 1 or dose_number > needed.doses:
        raise invalid(f"Dose number must be 1 to {needed.doses}.", dose_number="Out of range.")

    label = supply_mode(current_protocol()).label(subject_id=participant.subject_id, route=route, dose_number=dose_number)
    prep = Preparation(participant=participant, route=route, dose_number=dose_number, product=product, lot=lot,
                       dose=(dose or needed.dose).strip()[:100], label=label, prepared_by=actor, prepared_at=prepared_at)
    prep._history_user = actor
    prep._change_reason = "Preparation recorded"
    try:
        with transaction.atomic():
            prep.save()
    except IntegrityError:
        raise invalid(f"{route.upper()} dose {dose_number} of {participant.subject_id} is already recorded.",
                      dose_number="Already recorded.") from None
    return prep


@transaction.atomic
def preparation_record_day(*, actor: User, participant: Participant, lots: dict[str, str], counts: dict[str, int],
                           prepared_at: dt.datetime | None = None) -> list[Preparation]:
    """A day's doses for one participant in one step: ``counts[route]`` consecutive doses of each
    route from the next one, each with its lot. All are recorded or none (one transaction)."""
    if not any(counts.values()):
        raise invalid("Give the number of doses to prepare for at least one route.", counts="Nothing to prepare.")
    item = worklist(actor, [pharmacy_participant(actor, participant.pk)])[0]
    needed = {r.route: r for r in item.requirements}
    made = []
    for route in (Route.IV, Route.SC):
        count = counts.get(route, 0)
        if count < 0:
            raise invalid("A number of doses can't be negative.", **{f"{route}_count": "Not below 0."})
        if count and not (lots.get(route) or "").strip():
            message = f"Give the lot number of the {route.upper()} product."
            raise invalid(message, **{f"{route}_lot": message})
        first = item.next_dose[route]
        for dose_number in range(first, first + count):
            made.append(preparation_record(actor=actor, participant=participant, route=route, product=needed[route].product,
                                           lot=lots[route], prepared_at=prepared_at, dose_number=dose_number))
    return made


@transaction.atomic
def preparation_retract(*, actor: User, preparation: Preparation, reason: str, version: int) -> Preparation:
    pharmacy_participant(actor, preparation.participant_id)
    current = Preparation.objects.select_for_update().select_related("participant").get(pk=preparation.pk)
    assert_writable(participant=current.participant, form=current)
    if current.version != version:
        raise DomainError(ErrorCode.STALE_VERSION, "This preparation changed since you read it; reload it.")
    if current.status == PreparationStatus.RETRACTED:
        raise DomainError(PharmacyError.PREPARATION_RETRACTED, "Already retracted.")
    if not (reason or "").strip():
        raise invalid("Give a reason for the retraction.", reason="Required.")
    current.status, current.status_reason, current.version = PreparationStatus.RETRACTED, reason.strip(), current.version + 1
    current._history_user, current._change_reason = actor, reason.strip()
    current.save()
    return current
