"""The inbox in the main menu: every signed-in user has one."""

from django.utils.translation import gettext_lazy as _

from ecrf.core.navigation import NavEntry, register_entry

register_entry(NavEntry("notifications.inbox", _("Inbox"), "notifications:inbox", visible=lambda user: True, order=900))
