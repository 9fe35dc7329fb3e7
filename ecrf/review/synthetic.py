"""Demo data of the review app (``generate_trial`` step 130, after the queries): casebooks partly
verified and signed, and the last site frozen. It draws nothing from ``ctx.rng`` (who is verified
or signed follows the participant's position), so the earlier steps' draws stay as they are.
Everything goes through the review services, as a monitor, an investigator and a data manager
would do it."""

from __future__ import annotations

from typing import Any

from ecrf.accounts.roles import Role
from ecrf.core.errors import DomainError
from ecrf.core.synthetic import register_step, sampled
from ecrf.review import selectors
from ecrf.review.services import form_verify, scope_freeze, signature_create
from ecrf.schedule.synthetic_plan import randomized_participants
from ecrf.study.synthetic import DEMO_PASSWORD


def generate(ctx: Any) -> None:
    participants = randomized_participants(ctx)[: ctx.participants]
    reviews = selectors.reviews_for_participants([p.pk for p in participants])
    verified = signed = 0
    for n, p in enumerate(participants):
        monitor = ctx.site_users.get((p.site.code, Role.MONITOR))
        # Two participants in three verified: all the plan requires, so progress is partial per site.
        if monitor is not None and n % 3 != 2:
            for review in reviews.get(p.pk, []):
                if review.required:
                    form_verify(actor=monitor, spec=review.spec, form=review.form, version=review.form.version)
                    verified += 1
        investigator = ctx.site_users.get((p.site.code, Role.INVESTIGATOR))
        if investigator is not None and n % 2 == 0:
            state = selectors.casebook_states([p.pk])[p.pk]
            if state.drafts or not state.records:
                continue
            try:
                signature_create(actor=investigator, participant=p, meaning="approve", password=DEMO_PASSWORD,
                                 expected=state.manifest_hash)
            except DomainError as exc:  # a demo account locked out by hand: the demo goes on without that signature
                ctx.say(f"not signed {p.label}: {exc.message}")
                continue
            signed += 1
    manager = ctx.users.get(Role.DATA_MANAGER)
    if manager is not None and ctx.sites:
        site = ctx.sites[-1]
        if not selectors.scopes_for(manager).filter(level="site", site=site, released_at__isnull=True).exists():
            scope_freeze(actor=manager, level="site", site=site, reason="Demo: site frozen for the interim data review")
    ctx.say(f"{verified} forms verified, {signed} casebooks signed, site {ctx.sites[-1].code if ctx.sites else '-'} frozen.")


# At scale: the casebooks of a dozen participants verified and signed through the services
# (each verification is a service call; a whole trial's would take hours).
register_step(generate, order=130, bulk=lambda ctx: generate(sampled(ctx, 12)))
