"""The deviation spec's hook: the form's values judged by ``rules``."""

from __future__ import annotations

from django.utils import timezone

from ecrf.deviations.models import Deviation
from ecrf.deviations.rules import deviation_problems


def validate_deviation(form: Deviation) -> dict[str, str]:
    return deviation_problems(occurred_on=form.occurred_on, found_by=form.found_by, rule_code=form.rule_code,
                              today=timezone.localdate())
