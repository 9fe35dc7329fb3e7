"""The casebook link and the schedule's facts and alerts on the participant page (ecrf.crf.panels)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ecrf.accounts.roles import CASEBOOK_READ_ROLES, user_roles
from ecrf.crf.panels import HeaderItem, Panel, register_header, register_panel
from ecrf.schedule import timeline
from ecrf.schedule.engine import State
from ecrf.schedule.selectors import build_schedules
from ecrf.study.visits import END_OF_STUDY


@register_panel
def casebook_link(user: Any, participant: Any) -> Panel | None:
    if not participant.is_randomized or not user_roles(user) & CASEBOOK_READ_ROLES:
        return None
    return Panel(title=_("Casebook"), template="schedule/panel.html", context={"participant": participant}, order=20)


@register_header
def schedule_header(user: Any, participant: Any) -> list[HeaderItem]:
    """Study day and where the participant is in the schedule; doses past their window."""
    if not participant.is_randomized or not user_roles(user) & CASEBOOK_READ_ROLES:
        return []
    # The header reads the windows, the missing doses and whether end of study is entered:
    # nothing a freeze, lock, query, verification or signature changes, so none is read.
    schedule = build_schedules([participant], overlays=False)[participant.pk]
    ctx = schedule.context
    day = timeline.study_day(ctx.now, randomized_at=participant.randomized_at, tz=ctx.tz)
    # Today's study day means something only while the participant is in the study: after a
    # death the day of death is shown, after the end of study no day at all.
    day_item: HeaderItem | None = HeaderItem(_("Study day"), str(day), order=30)
    if ctx.died_at is not None:
        status = _("Died")
        died_on = timeline.study_day(ctx.died_at, randomized_at=participant.randomized_at, tz=ctx.tz)
        day_item = HeaderItem(_("Day of death"), str(died_on), order=30)
    elif any(f.slot.key == END_OF_STUDY and f.entry is not None for f in schedule.forms):
        status = _("Study ended")
        day_item = None
    elif day <= ctx.protocol.treatment_days:
        status = _("Treatment")
    else:
        status = _("Follow-up")
    items = [*([day_item] if day_item else []), HeaderItem(_("Status"), str(status), order=40)]
    missed = sum(1 for f in schedule.forms if f.slot.treatment_route and f.state == State.OVERDUE)
    if missed:
        items.append(HeaderItem(_("Missed doses"), ngettext("%(n)d dose past its window", "%(n)d doses past their window",
                                                            missed) % {"n": missed},
                                alert=True, level="warning", url=reverse("schedule:casebook", args=[participant.pk]), order=30))
    return items
