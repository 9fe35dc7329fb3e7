"""``generate_trial``'s queries step (order 120, after every form is entered): one run of every
edit check over the whole trial, then queries raised by hand and taken through the workflow, so
the demo shows a query in every state: a draft, open, answered, closed (and one confirmed as
correct when a check found something), cancelled. Through the services, as real use is."""

from __future__ import annotations

from typing import Any

from ecrf.accounts.roles import Role
from ecrf.core.synthetic import register_step
from ecrf.crf.registry import all_specs
from ecrf.queries import services
from ecrf.queries.models import CheckRequest, Query, QueryState, RunTrigger

# (field-less question, what happens to it)
_MANUAL = (
    ("Please confirm this value against the source document.", "draft"),
    ("The time recorded here looks earlier than the previous entry; please check.", "open"),
    ("Please add the unit used by your laboratory.", "answered"),
    ("Is this entry complete? One value seems to be missing.", "closed"),
    ("Raised on the wrong form.", "cancelled"),
)


def _forms(ctx: Any, n: int) -> list[tuple[Any, Any]]:
    """``n`` submitted forms of randomized participants, of several kinds, chosen by the seed."""
    found: list[tuple[Any, Any]] = []
    for spec in all_specs():
        if Role.DATA_MANAGER not in spec.read_roles | spec.correction_roles:
            continue
        rows = spec.model.objects.filter(participant__randomized_at__isnull=False, status="submitted")
        found.extend((spec, form) for form in rows.select_related("participant__site").order_by("pk")[:20])
    return ctx.rng.sample(found, min(n, len(found)))


def generate(ctx: Any) -> None:
    dm = ctx.users.get(Role.DATA_MANAGER)
    if dm is None:
        return
    run = services.checks_run(trigger=RunTrigger.SYNTHETIC, actor=dm)
    # The sweep covered every participant: the requests the step's saves left need no run of their own.
    for request in CheckRequest.objects.filter(pending=True):
        request.pending = False
        request.save(update_fields=["pending"])
    made = {"draft": 0, "open": 0, "answered": 0, "closed": 0, "cancelled": 0}
    for (spec, form), (text, fate) in zip(_forms(ctx, len(_MANUAL)), _MANUAL, strict=False):
        site_user = ctx.site_users.get((form.participant.site.code, Role.COORDINATOR))
        query = services.query_raise(actor=dm, spec=spec, form=form, field=spec.fields[0], text=text)
        if fate != "draft" and fate != "cancelled":
            services.query_release(actor=dm, query=query)
        if fate in ("answered", "closed") and site_user is not None:
            services.query_answer(actor=site_user, query=query, text="Checked against the source: corrected.")
        if fate == "closed":
            services.query_close(actor=dm, query=query, text="Thank you; the correction is in.")
        if fate == "cancelled":
            services.query_cancel(actor=dm, query=query, text="Raised on the wrong form.")
        made[fate] += 1
    # A check's query confirmed as correct, when the run found something to query.
    found = Query.objects.filter(opened_by_run=run, state=QueryState.OPEN).order_by("pk").first()
    if found is not None:
        services.query_close(actor=dm, query=found, text="Confirmed in the source: the value is correct.")
    ctx.say(f"edit checks: {run.opened} queries opened by {run.checks_total} checks"
            f"{' (one confirmed as correct)' if found is not None else ''}; by hand: "
            + ", ".join(f"{n} {fate}" for fate, n in made.items()) + ".")


register_step(generate, order=120)
