"""The synthetic-trial pipeline: ``generate_trial`` runs each app's ``synthetic.generate(ctx)``
in the order below. Each step goes through the app's services (the same validation,
derivation and history as real entry) and may add to ``ctx`` for later steps."""

from __future__ import annotations

import importlib
import random
from dataclasses import dataclass, field
from typing import Any

# The data flow of DESIGN.md; a missing module is simply skipped.
PIPELINE = (
    "ecrf.study",
    "ecrf.screening",
    "ecrf.randomization",
    "ecrf.pharmacy",
    "ecrf.dosing",
    "ecrf.labs",
    "ecrf.medications",
    "ecrf.sofa",
    "ecrf.outcomes",
    "ecrf.deviations",
    "safety",
)


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

    def say(self, message: str) -> None:
        self.log.append(message)


def run_pipeline(ctx: SyntheticContext, *, out: Any = None) -> SyntheticContext:
    for app in PIPELINE:
        try:
            module = importlib.import_module(f"{app}.synthetic")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app}.synthetic":
                raise
            continue
        before = len(ctx.log)
        module.generate(ctx)
        if out is not None:
            for line in ctx.log[before:]:
                out.write(f"[{app}] {line}\n")
    return ctx
