"""The synthetic-trial pipeline of ``manage.py generate_trial`` (demo data and benchmarks).

Each app that contributes data declares its own step in its ``synthetic.py``:
``register_step(generate, order=40)``. The pipeline imports every installed app's ``synthetic``
module when it runs (``autodiscover_modules``, as the Django admin finds ``admin.py``) and runs
the steps by their declared ``order``, so this module names no app and an app joins or leaves
the pipeline with its own code. A step goes through the app's services (the same validation,
derivation and history as real entry) and may leave results in ``ctx.data`` for later steps.

The orders follow the flow of data (ARCHITECTURE.md "The flow of data"), spaced by ten so that
a new step fits between two others:

    10 study (sites, role accounts)      60 labs
    20 screening                         70 medications
    30 randomization                     80 sofa
    40 pharmacy                          90 outcomes
    50 dosing                           100 deviations
                                        110 safety
                                        120 queries (the edit checks)

The order also fixes which draws each step takes from the shared seeded ``ctx.rng``: the same
seed gives the same trial only while the orders stay as they are.

At scale (``ctx.bulk``, ``generate_trial --bulk``, the default from ``BULK_THRESHOLD``
participants) a step registered with ``bulk=`` runs that function instead: it inserts in
batches through ``ecrf.crf.bulk.BulkWriter`` (the same validation and derivation per row, the
chained history), and reports its rows and progress through ``ctx``. A step without a bulk
variant runs through the services either way. The bulk trial is drawn differently from the
service trial of the same seed (it takes its draws per participant in one pass).

This module lives in the ground floor (``ecrf.core``) because the lowest step, the study's sites
and accounts, registers here too.
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from django.utils.module_loading import autodiscover_modules


@dataclass
class SyntheticContext:
    participants: int
    seed: int
    rng: random.Random
    sites: list[Any] = field(default_factory=list)
    users: dict[str, Any] = field(default_factory=dict)  # role code -> a user (site roles: per site below)
    site_users: dict[tuple[str, str], Any] = field(default_factory=dict)  # (site code, role) -> user
    data: dict[str, Any] = field(default_factory=dict)  # shared between steps
    log: list[str] = field(default_factory=list)
    bulk: bool = False
    timings: dict[str, float] = field(default_factory=dict)  # step name -> seconds
    writer: Any = None  # the bulk path's ecrf.crf.bulk.BulkWriter
    # (step label, done, total): called by bulk steps as they go (the command draws a bar).
    on_progress: Callable[[str, int, int], None] | None = None

    def say(self, message: str) -> None:
        self.log.append(message)

    def progress(self, label: str, done: int, total: int) -> None:
        if self.on_progress is not None:
            self.on_progress(label, done, total)


Generate = Callable[[SyntheticContext], None]

# At scale, the steps that show one of everything rather than a volume (preparations, adverse
# events with their clocks, monitoring and signatures) run through the services on this many
# participants, not on all of them.
SERVICE_SAMPLE = 60


def sampled(ctx: SyntheticContext, n: int = SERVICE_SAMPLE) -> SyntheticContext:
    """``ctx`` limited to ``n`` participants (the same rng, accounts and data)."""
    return dataclasses.replace(ctx, participants=min(ctx.participants, n))


@dataclass(frozen=True)
class Step:
    name: str  # the app's module path, e.g. "ecrf.screening"; prefixes the step's log lines
    order: int
    generate: Generate
    bulk: Generate | None = None  # the step at scale (``ctx.bulk``), if it has one


_STEPS: dict[str, Step] = {}


def register_step(generate: Generate, *, order: int, name: str | None = None, bulk: Generate | None = None) -> Generate:
    """Declare ``generate(ctx)`` as a step of the pipeline, run at ``order`` (lower first), and
    ``bulk(ctx)`` as its variant at scale.
    ``name`` defaults to the module's app (``ecrf.labs.synthetic`` -> ``ecrf.labs``).
    Registering the same step again is a no-op; two steps may not share an order, since the
    order decides the data a seed gives."""
    name = name or generate.__module__.removesuffix(".synthetic")
    existing = _STEPS.get(name)
    if existing is not None and existing.order == order:
        if bulk is not None and existing.bulk is None:
            _STEPS[name] = Step(name=name, order=order, generate=existing.generate, bulk=bulk)
        return generate
    clash = [s.name for s in _STEPS.values() if s.order == order and s.name != name]
    if clash:
        raise ValueError(f"Synthetic step {name} has order {order}, already taken by {clash[0]}.")
    _STEPS[name] = Step(name=name, order=order, generate=generate, bulk=bulk)
    return generate


def steps() -> list[Step]:
    """The registered steps in running order, after importing every installed app's
    ``synthetic`` module."""
    autodiscover_modules("synthetic")
    return sorted(_STEPS.values(), key=lambda s: s.order)


def run_pipeline(ctx: SyntheticContext, *, out: Any = None, skip: Collection[str] = ()) -> SyntheticContext:
    """Run every step (but those named in ``skip``) in order."""
    for step in steps():
        if step.name in skip:
            continue
        before = len(ctx.log)
        started = time.perf_counter()
        (step.bulk if ctx.bulk and step.bulk is not None else step.generate)(ctx)
        if ctx.writer is not None:
            ctx.writer.flush()  # every step's rows are in before the next step reads them
        ctx.timings[step.name] = time.perf_counter() - started
        if out is not None:
            for line in ctx.log[before:]:
                out.write(f"[{step.name}] {line}\n")
            out.write(f"[{step.name}] {ctx.timings[step.name]:.1f} s\n")
    return ctx
