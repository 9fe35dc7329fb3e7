"""The roles of ARCHITECTURE.md, as Django groups with exactly these codes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from ecrf.core.errors import DomainError, ErrorCode


class Role(models.TextChoices):
    INVESTIGATOR = "investigator", _("Investigator")
    COORDINATOR = "coordinator", _("Study coordinator")
    PHARMACIST = "pharmacist", _("Unblinded pharmacist")
    LAB = "lab", _("Central laboratory")
    MONITOR = "monitor", _("Monitor")
    DATA_MANAGER = "data_manager", _("Data manager")
    SAFETY_OFFICER = "safety_officer", _("Safety officer")
    PHARMACOVIGILANCE = "pharmacovigilance", _("Pharmacovigilance")
    SPONSOR = "sponsor", _("Sponsor")
    STATISTICIAN = "statistician", _("Unblinded statistician")
    DSMB = "dsmb", _("DSMB member")
    ADMIN = "admin", _("Administrator")


# Roles whose clinical visibility is limited to the sites in the user's memberships.
SITE_SCOPED_ROLES = frozenset({Role.INVESTIGATOR, Role.COORDINATOR, Role.PHARMACIST, Role.MONITOR})
# Roles that see participants of every site (blinded).
ALL_SITE_ROLES = frozenset({Role.DATA_MANAGER, Role.SAFETY_OFFICER, Role.LAB})
# Site staff who enter CRF data.
SITE_ENTRY_ROLES = frozenset({Role.INVESTIGATOR, Role.COORDINATOR})
# Who may read a participant's blinded casebook.
CASEBOOK_READ_ROLES = frozenset(
    {Role.INVESTIGATOR, Role.COORDINATOR, Role.MONITOR, Role.DATA_MANAGER, Role.SAFETY_OFFICER}
)
# Who may see the participant list (identifiers, status), not necessarily the forms.
PARTICIPANT_LIST_ROLES = CASEBOOK_READ_ROLES | {Role.PHARMACIST, Role.LAB}
# Unblinded roles (ARCHITECTURE.md "Roles"): never given blinded pages' shortcuts to the arm.
UNBLINDED_ROLES = frozenset({Role.PHARMACIST, Role.PHARMACOVIGILANCE, Role.STATISTICIAN, Role.DSMB})
# Roles with access to the Django admin (configuration; read-mostly clinical views).
STAFF_ROLES = frozenset({Role.ADMIN, Role.DATA_MANAGER})


def user_roles(user: Any) -> frozenset[str]:
    """The user's role codes, cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, "_role_cache", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True)) & frozenset(Role.values)
        user._role_cache = cached
    return cached


def has_role(user: Any, roles: Iterable[str]) -> bool:
    return bool(user_roles(user) & frozenset(roles))


def require_role(user: Any, roles: Iterable[str], action: str = "do this") -> None:
    if not getattr(user, "is_authenticated", False):
        raise DomainError(ErrorCode.NOT_AUTHENTICATED, "Log in first.")
    if not has_role(user, roles):
        raise DomainError(ErrorCode.FORBIDDEN, f"Your role may not {action}.")
