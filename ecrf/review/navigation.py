"""Source data verification and freeze/lock in the main menu."""

from django.utils.translation import gettext_lazy as _

from ecrf.core.navigation import NavEntry, for_roles, register_entry
from ecrf.review.selectors import LOCK_ROLES, VERIFY_ROLES

register_entry(NavEntry("review.progress", _("Verification"), "review:progress", visible=for_roles(VERIFY_ROLES), order=70))
register_entry(NavEntry("review.locks", _("Freeze and lock"), "review:locks", visible=for_roles(LOCK_ROLES), order=72))
