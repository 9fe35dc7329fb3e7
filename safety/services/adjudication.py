"""Adjudication: queued and reopened by the AE's changes, two independent reviews, a third on
disagreement (safety.md "Adjudication")."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from ecrf.accounts.roles import Role, require_role
from ecrf.audit.models import EventKind
from ecrf.audit.services import event_record
from ecrf.core.errors import DomainError, ErrorCode, not_found
from ecrf.crf.guard import assert_writable
from ecrf.crf.models import EntryStatus
from safety.errors import SafetyError
from safety.meddra import coding_for
from safety.models import Adjudication, AdjudicationReview, AdjudicationStatus, AdverseEvent, SpecialInterest
from safety.services.common import save_audited

if TYPE_CHECKING:
    from ecrf.accounts.models import User

REVIEW_FIELDS = ("serious", "related_iv", "related_sc", "expected", "llt_code", "special_interest")


def adjudication_sync(ae: AdverseEvent, actor: User | None) -> None:
    """Create the adjudication of a submitted serious or special-interest AE; a later change to
    the AE reopens it and clears the final classification (safety.md "Adjudication")."""
    adj = Adjudication.objects.select_for_update().filter(adverse_event=ae).first()
    if adj is None:
        if ae.status == EntryStatus.SUBMITTED:
            adj = Adjudication(adverse_event=ae, source_version=ae.version)
            save_audited(adj, actor, "Queued for adjudication")
        return
    if adj.source_version == ae.version:
        return
    previous = adj.source_version
    adj.source_version = ae.version
    if adj.final is not None or adj.reviews.filter(round=adj.round).exists():
        adj.round += 1
        adj.status = AdjudicationStatus.OPEN
        adj.final = None
        adj.final_by = ""
        adj.final_at = None
        adj.version += 1
        save_audited(adj, actor, f"Source adverse event changed (version {previous} -> {ae.version}): adjudication "
                                 "reopened, final classification cleared")
    else:
        save_audited(adj, actor, f"Source adverse event changed (version {previous} -> {ae.version})")


@transaction.atomic
def adjudication_review_submit(*, actor: User, adjudication: Adjudication, data: dict[str, Any]) -> AdjudicationReview:
    """One reviewer's independent classification. Two that agree make the final one; a
    disagreement goes to a third reviewer (or the committee), whose review decides.

    The final classification is part of the clinical database and of the locked export
    (safety.md "Adjudication"): under a participant, site or study freeze or lock the review is
    refused (invariant 5) and nothing is stored."""
    require_role(actor, {Role.SAFETY_OFFICER}, "adjudicate")
    adj = (Adjudication.objects.select_for_update(of=("self",)).select_related("adverse_event__participant")
           .get(pk=adjudication.pk))
    assert_writable(participant=adj.adverse_event.participant)
    if adj.status == AdjudicationStatus.FINAL:
        raise DomainError(SafetyError.ADJUDICATION_FINAL, "This adjudication is final.")
    reviews = list(adj.reviews.filter(round=adj.round))
    if any(r.reviewer_id == actor.pk for r in reviews):
        raise DomainError(SafetyError.ALREADY_REVIEWED, "You have already reviewed this event; another reviewer completes it.")
    errors: dict[str, str] = {}
    for name in ("serious", "related_iv", "related_sc", "expected"):
        if not isinstance(data.get(name), bool):
            errors[name] = "Answer yes or no."
    llt = data.get("llt_code")
    if not isinstance(llt, int) or coding_for(llt) is None:
        errors["llt_code"] = "Give the final coded term as a lowest level term code of the dictionary."
    if data.get("special_interest") not in SpecialInterest.values:
        errors["special_interest"] = "Choose none, anemia or bleeding."
    if errors:
        raise DomainError(ErrorCode.INVALID, next(iter(errors.values())), fields=errors)
    tiebreak = adj.status == AdjudicationStatus.THIRD_REVIEW
    review = AdjudicationReview(adjudication=adj, round=adj.round, reviewer=actor, tiebreak=tiebreak,
                                comment=(data.get("comment") or "").strip(), **{k: data[k] for k in REVIEW_FIELDS})
    save_audited(review, actor, "Tie-break review" if tiebreak else "Independent review")
    if tiebreak:
        _finalize(adj, review.classification(), f"third reviewer {actor.get_username()}", actor)
    elif len(reviews) == 1:
        first = reviews[0]
        if first.classification() == review.classification():
            _finalize(adj, review.classification(),
                      f"agreement of {first.reviewer.get_username()} and {actor.get_username()}", actor)
        else:
            adj.status = AdjudicationStatus.THIRD_REVIEW
            adj.version += 1
            save_audited(adj, actor, "Reviewers disagree: third reviewer or committee")
    return review


def _finalize(adj: Adjudication, classification: dict[str, Any], by: str, actor: User) -> None:
    adj.status = AdjudicationStatus.FINAL
    adj.final = classification
    adj.final_by = by
    adj.final_at = timezone.now()
    adj.version += 1
    save_audited(adj, actor, f"Final classification by {by}")


def review_access_denied(*, actor: User, review_id: int, request: HttpRequest | None = None) -> DomainError:
    """A reviewer asked for another reviewer's pending review: audited, and the same 404 as
    for a review that does not exist."""
    event_record(kind=EventKind.ACCESS_DENIED, actor=actor, request=request, object_type="safety.adjudicationreview",
                 object_id=str(review_id), what="another reviewer's pending review")
    return not_found("review")
