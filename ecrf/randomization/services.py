"""Allocation lists (statistician) and randomization (site staff).

Randomize: an eligible, consented, not yet randomized participant of the actor's site, within
the Sepsis-3 window, takes the next slot of its stratum under row locks (participant, then
screening form, then stratum, then the site's subject counter: one order everywhere, so no
deadlock), so concurrent requests at one or many sites never share a slot and never skip one.
The blinded side learns the subject ID and the time only (``participant_mark_randomized``); the
site's pharmacists are told, with the same words whatever the arm, that a preparation is due.
No message here depends on the arm.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from ecrf.accounts.models import User
from ecrf.accounts.roles import SITE_ENTRY_ROLES, Role, require_role
from ecrf.randomization.errors import RandomizationError
from ecrf.core.errors import DomainError, ErrorCode, invalid
from ecrf.crf.guard import assert_writable
from ecrf.crf.models import Participant
from ecrf.crf.selectors import participant_get
from ecrf.crf.services import participant_mark_randomized
from ecrf.notifications.services import notify
from ecrf.randomization import allocation
from ecrf.randomization.models import (
    AllocationList,
    Assignment,
    ListSource,
    Slot,
    Stratum,
    SubjectCounter,
)
from ecrf.screening.models import Phenotype
from ecrf.screening.services import screening_fix_for_randomization
from ecrf.study.models import Site
from ecrf.study.protocol import Protocol
from ecrf.study.services import current_protocol
from ecrf.audit.models import EventKind
from ecrf.audit.services import event_record

STATISTICIAN = frozenset({Role.STATISTICIAN})


# --- strata -----------------------------------------------------------------------------------


def stratum_of(site_code: str, phenotype: str, factors: Sequence[str]) -> tuple[str, ...]:
    values = {"site": site_code, "phenotype": phenotype}
    unknown = [f for f in factors if f not in values]
    if unknown:
        raise ValueError(f"Unknown stratification factor {', '.join(unknown)} (known: site, phenotype).")
    return tuple(values[f] for f in factors)


def all_strata(protocol: Protocol, sites: Sequence[Site] | None = None) -> list[tuple[str, ...]]:
    """Every stratum of the configured factors over the active sites (default site x phenotype)."""
    sites = list(sites) if sites is not None else list(Site.objects.filter(is_active=True).order_by("code"))
    strata = {stratum_of(s.code, p, protocol.stratification_factors) for s in sites for p in Phenotype.values}
    return sorted(strata)


def _key(stratum: Sequence[str]) -> str:
    return allocation.STRATUM_SEPARATOR.join(stratum)


# --- lists ------------------------------------------------------------------------------------


def _store(*, actor: User, slots: list[allocation.Slot], source: str, protocol: Protocol, seed: str = "",
           slots_per_stratum: int | None = None, filename: str = "", file_sha256: str = "",
           block_sizes: Sequence[int]) -> AllocationList:
    keys = sorted({_key(s.stratum) for s in slots})
    taken = sorted(Stratum.objects.filter(key__in=keys).values_list("key", flat=True))
    if taken:
        raise DomainError(RandomizationError.STRATUM_HAS_LIST, f"Strata {', '.join(taken)} already have an allocation list; "
                          f"a list covers new strata only.", fields={"strata": taken})
    record = AllocationList(source=source, seed=seed, block_sizes=list(block_sizes), ratio=list(protocol.allocation_ratio),
                            factors=list(protocol.stratification_factors), slots_per_stratum=slots_per_stratum,
                            filename=filename, file_sha256=file_sha256, checksum=allocation.list_checksum(slots),
                            slot_count=len(slots), created_by=actor)
    record._history_user = actor
    record._change_reason = f"Allocation list {source}"
    record.save()
    sizes: dict[str, int] = {}
    for s in slots:
        sizes[_key(s.stratum)] = sizes.get(_key(s.stratum), 0) + 1
    strata = Stratum.objects.bulk_create([Stratum(key=k, allocation_list=record, size=sizes[k]) for k in keys])
    by_key = {s.key: s for s in strata}
    Slot.objects.bulk_create(
        [Slot(allocation_list=record, stratum=by_key[_key(s.stratum)], sequence=s.sequence, block=s.block,
              block_size=s.block_size, arm=s.arm) for s in slots], batch_size=2000)
    site_codes = {s.stratum[list(protocol.stratification_factors).index("site")] for s in slots} \
        if "site" in protocol.stratification_factors else set()
    SubjectCounter.objects.bulk_create([SubjectCounter(site=site) for site in Site.objects.filter(code__in=site_codes)],
                                       ignore_conflicts=True)
    # The event says that a list exists and its checksum; never its content.
    event_record(kind=EventKind.STUDY_CONFIG_CHANGE, actor=actor, obj=record, action="allocation_list_" + source,
                 strata=len(keys), slots=len(slots))
    return record


@transaction.atomic
def allocation_list_generate(*, actor: User, seed: str, slots_per_stratum: int,
                             block_sizes: Sequence[int] | None = None,
                             strata: Sequence[Sequence[str]] | None = None) -> AllocationList:
    """Generate permuted blocks from a recorded seed, one sequence per stratum (statistician)."""
    require_role(actor, STATISTICIAN, "generate allocation lists")
    # A study-scope freeze or lock refuses new lists too (ARCHITECTURE.md invariant 5).
    assert_writable()
    protocol = current_protocol()
    seed = (seed or "").strip()
    if not seed:
        raise invalid("Give the seed; it is recorded so that the list can be regenerated.", seed="Required.")
    if any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in seed) or len(seed) > 200:
        raise invalid("The seed must be printable text of at most 200 characters.", seed="Not printable text.")
    sizes = tuple(block_sizes or protocol.block_sizes)
    chosen = [tuple(s) for s in strata] if strata else all_strata(protocol)
    known = set(all_strata(protocol, Site.objects.all()))
    unknown = [_key(s) for s in chosen if s not in known]
    if unknown:
        raise invalid(f"Unknown strata {', '.join(unknown)}.", strata="Unknown stratum.")
    try:
        slots = allocation.generate_allocation_list(strata=chosen, slots_per_stratum=int(slots_per_stratum),
                                                    block_sizes=sizes, seed=seed, ratio=protocol.allocation_ratio)
    except (TypeError, ValueError) as exc:
        raise invalid(f"The list can't be generated: {exc}", slots_per_stratum=str(exc)) from None
    return _store(actor=actor, slots=slots, source=ListSource.GENERATED, protocol=protocol, seed=seed,
                  slots_per_stratum=int(slots_per_stratum), block_sizes=sizes)


@transaction.atomic
def allocation_list_import(*, actor: User, filename: str, content: bytes,
                           block_sizes: Sequence[int] | None = None) -> AllocationList:
    """Import the statistician's list file, refused whole on any problem (unbalanced block,
    unknown stratum, gaps...); its checksum is recorded."""
    require_role(actor, STATISTICIAN, "import allocation lists")
    # A study-scope freeze or lock refuses new lists too (ARCHITECTURE.md invariant 5).
    assert_writable()
    protocol = current_protocol()
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise invalid("The list file is not UTF-8 text.", file="Not UTF-8.") from None
    try:
        slots = allocation.parse_allocation_csv(text, known_strata=set(all_strata(protocol, Site.objects.all())),
                                                ratio=protocol.allocation_ratio,
                                                block_sizes=tuple(block_sizes) if block_sizes else None)
    except allocation.AllocationListError as exc:
        problems = [str(p) for p in exc.problems]
        raise DomainError(ErrorCode.INVALID, "The allocation list was refused whole: " + "; ".join(problems[:10]),
                          fields={"file": problems}) from None
    sizes = sorted({s.block_size for s in slots})
    return _store(actor=actor, slots=slots, source=ListSource.IMPORTED, protocol=protocol, filename=filename[:200],
                  file_sha256=hashlib.sha256(content).hexdigest(), block_sizes=sizes)


def allocation_list_verify(*, actor: User, allocation_list: AllocationList) -> bool:
    """Regenerate from the recorded seed and compare, slot by slot (generated lists)."""
    require_role(actor, STATISTICIAN, "verify allocation lists")
    if not allocation_list.seed:
        return False
    slots = [allocation.Slot(stratum=tuple(key.split(allocation.STRATUM_SEPARATOR)), sequence=seq, block=block,
                             block_size=size, arm=arm)
             for key, seq, block, size, arm in Slot.objects.filter(allocation_list=allocation_list)
             .values_list("stratum__key", "sequence", "block", "block_size", "arm")]
    ratio = tuple(allocation_list.ratio) or (1, 1)
    return allocation.verify_regeneration(slots, seed=allocation_list.seed, block_sizes=allocation_list.block_sizes,
                                          ratio=(ratio[0], ratio[1])) and allocation.list_checksum(slots) == allocation_list.checksum


# --- randomize --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RandomizationReceipt:
    participant_id: int
    subject_id: str
    randomized_at: dt.datetime


def _next_subject_id(site: Site, protocol: Protocol) -> str:
    SubjectCounter.objects.bulk_create([SubjectCounter(site=site)], ignore_conflicts=True)
    counter = SubjectCounter.objects.select_for_update().get(site=site)
    while True:
        counter.last_number += 1
        subject_id = protocol.subject_id_format.format(site=site.code, number=counter.last_number)
        if not Participant.objects.filter(subject_id=subject_id).exists():
            break
    counter.save(update_fields=["last_number"])
    return subject_id


def participant_randomize(*, actor: User, participant: Participant) -> RandomizationReceipt:
    """Randomize one participant (see the module docstring). 403 for a role that may not, 404
    outside the actor's sites, 409 for a state that forbids it; nothing changes on any error."""
    require_role(actor, SITE_ENTRY_ROLES, "randomize participants")
    participant = participant_get(actor, participant.pk, SITE_ENTRY_ROLES)
    protocol = current_protocol()
    with transaction.atomic():
        locked = Participant.objects.select_for_update().select_related("site").get(pk=participant.pk)
        if locked.is_randomized:
            raise DomainError(RandomizationError.ALREADY_RANDOMIZED, f"Participant {locked.screening_number} is already randomized "
                              f"({locked.subject_id}); a participant is randomized once.")
        assert_writable(participant=locked)
        now = timezone.now()
        screening = screening_fix_for_randomization(actor=actor, participant=locked, randomized_at=now)
        window = dt.timedelta(hours=protocol.sepsis_window_hours)
        if now - screening.sepsis3_at > window:
            hours = (now - screening.sepsis3_at).total_seconds() / 3600
            raise DomainError(RandomizationError.SEPSIS_WINDOW_PASSED, f"Sepsis-3 was met {hours:.0f} hours ago; randomization is "
                              f"allowed within {protocol.sepsis_window_hours} hours only.",
                              fields={"sepsis3_at": "Outside the randomization window."})
        key = _key(stratum_of(locked.site.code, screening.phenotype, protocol.stratification_factors))
        stratum = Stratum.objects.select_for_update().filter(key=key).first()
        if stratum is None:
            raise DomainError(RandomizationError.NO_ALLOCATION_LIST, f"No allocation list covers stratum {key}; the statistician must "
                              f"generate or import one before randomizing.")
        slot = Slot.objects.filter(stratum=stratum, sequence=stratum.next_sequence).first()
        if slot is None:
            raise DomainError(RandomizationError.ALLOCATION_LIST_USED_UP, f"The allocation list of stratum {key} is used up; the "
                              f"statistician must add a list before randomizing.")
        stratum.next_sequence += 1
        stratum.save(update_fields=["next_sequence"])
        subject_id = _next_subject_id(locked.site, protocol)
        assignment = Assignment(participant=locked, slot=slot, stratum_key=key, phenotype=screening.phenotype,
                                assigned_at=now, assigned_by=actor)
        assignment._history_user = actor
        assignment._change_reason = "Randomized"
        try:
            with transaction.atomic():
                assignment.save()
        except IntegrityError:  # the database's own guarantee: one slot, one participant
            raise DomainError(RandomizationError.ALREADY_RANDOMIZED, "This participant is already randomized.") from None
        participant_mark_randomized(participant=locked, subject_id=subject_id, randomized_at=now, actor=actor)
        _tell_pharmacists(locked.site, subject_id, locked.pk)
    return RandomizationReceipt(participant_id=locked.pk, subject_id=subject_id, randomized_at=now)


def _tell_pharmacists(site: Site, subject_id: str, participant_id: int) -> None:
    # The same words, recipients and timing whatever the arm (ARCHITECTURE.md invariant 6).
    pharmacists = User.objects.filter(groups__name=Role.PHARMACIST, sites=site, is_active=True).distinct()
    notify(recipients=pharmacists, kind="preparation_due", source=f"crf.participant:{participant_id}",
           subject=f"Study drug preparation due for {subject_id} (site {site.code})",
           body=(f"Participant {subject_id} at site {site.code} has been randomized. Prepare the IV and the SC study "
                 f"drug; the pharmacy page says what."),
           link=reverse("pharmacy:worklist"))


__all__ = ["RandomizationReceipt", "allocation_list_generate", "allocation_list_import", "allocation_list_verify",
           "participant_randomize", "stratum_of"]
