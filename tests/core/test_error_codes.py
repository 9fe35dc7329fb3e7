"""Each app names its refusals with its own error codes (an ``AppErrorCode`` enum in the app's
``errors.py``), so the API tells a client exactly which rule refused it; the generic
``state_conflict`` is not used by any service."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ecrf.accounts.errors import AccountsError
from ecrf.core.errors import AppErrorCode, DomainError, ErrorCode
from ecrf.crf.errors import CrfError
from ecrf.pharmacy.errors import PharmacyError
from ecrf.randomization.errors import RandomizationError
from ecrf.schedule.errors import ScheduleError
from ecrf.screening.errors import ScreeningError
from safety.errors import SafetyError

ROOT = Path(__file__).resolve().parents[2]


def _uses_of_generic_state_conflict() -> list[str]:
    found = []
    for path in sorted([*ROOT.joinpath("ecrf").rglob("*.py"), *ROOT.joinpath("safety").rglob("*.py")]):
        if path.name == "errors.py" and path.parent.name == "core":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr == "STATE_CONFLICT":
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_no_service_refuses_with_the_generic_state_conflict():
    assert _uses_of_generic_state_conflict() == []


@pytest.mark.parametrize("enum", [AccountsError, CrfError, PharmacyError, RandomizationError, ScheduleError,
                                  ScreeningError, SafetyError])
def test_app_codes_are_specific_and_carry_their_status(enum):
    assert issubclass(enum, AppErrorCode)
    values = [member.value for member in enum]
    assert len(values) == len(set(values)), f"{enum.__name__} uses a code twice"
    assert ErrorCode.STATE_CONFLICT.value not in values
    for member in enum:
        error = DomainError(member, "refused")
        assert error.status == member.http_status
        assert error.as_dict()["error"]["code"] == member.value
