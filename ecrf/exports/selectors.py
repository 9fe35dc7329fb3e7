"""Who sees which exports (ARCHITECTURE.md "Roles" and "Who may see what that is unblinded").

- blinded packages of the study lock: the sponsor, data managers and the statistician;
- unblinded packages of the study lock: the statistician alone (after the study unblinding);
- data cuts and their packages: the statistician, who makes them, and the DSMB, who reads the
  closed (unblinded) ones.
Site staff and every other role see none (their API and pages answer 403).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from ecrf.accounts.roles import Role, user_roles
from ecrf.core.errors import forbidden, not_found
from ecrf.exports.models import DataCut, ExportJob, ExportSource

BLINDED_LOCK_ROLES = frozenset({Role.SPONSOR, Role.DATA_MANAGER, Role.STATISTICIAN})
UNBLINDED_LOCK_ROLES = frozenset({Role.STATISTICIAN})
CUT_CREATE_ROLES = frozenset({Role.STATISTICIAN})
CUT_READ_ROLES = frozenset({Role.STATISTICIAN, Role.DSMB})
EXPORT_ROLES = BLINDED_LOCK_ROLES | UNBLINDED_LOCK_ROLES | CUT_READ_ROLES


def require_export_role(user: Any) -> None:
    if not user_roles(user) & EXPORT_ROLES:
        raise forbidden("Your role may not see export packages (the sponsor, data managers, the statistician and the DSMB may).")


def require_cut_role(user: Any) -> None:
    if not user_roles(user) & CUT_READ_ROLES:
        raise forbidden("Only the statistician and the DSMB see data cuts.")


def exports_for(user: Any) -> QuerySet[ExportJob]:
    roles = user_roles(user)
    q = Q(pk__in=[])
    if roles & BLINDED_LOCK_ROLES:
        q |= Q(source=ExportSource.LOCK, blinded=True)
    if roles & UNBLINDED_LOCK_ROLES:
        q |= Q(source=ExportSource.LOCK, blinded=False)
    if roles & CUT_READ_ROLES:
        q |= Q(source=ExportSource.CUT)
    return ExportJob.objects.filter(q).select_related("lock", "cut", "requested_by").order_by("-pk")


def export_get(user: Any, pk: Any) -> ExportJob:
    """The job if this user may see it; the same 404 for missing and not visible."""
    require_export_role(user)
    try:
        return exports_for(user).get(pk=int(pk))
    except (ExportJob.DoesNotExist, TypeError, ValueError):
        raise not_found("export") from None


def cuts_for(user: Any) -> QuerySet[DataCut]:
    if not user_roles(user) & CUT_READ_ROLES:
        return DataCut.objects.none()
    return DataCut.objects.select_related("created_by").order_by("-pk")


def cut_get(user: Any, pk: Any) -> DataCut:
    try:
        return cuts_for(user).get(pk=int(pk))
    except (DataCut.DoesNotExist, TypeError, ValueError):
        raise not_found("data cut") from None
