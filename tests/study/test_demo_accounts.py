"""The demo's study step: the accounts it reports are the accounts it made."""

from __future__ import annotations

import random

import pytest

from ecrf.accounts.models import User
from ecrf.accounts.roles import Role, user_roles
from ecrf.core.synthetic import SyntheticContext
from ecrf.study import synthetic

pytestmark = pytest.mark.django_db


def test_the_printed_account_count_is_the_number_of_accounts_and_two_safety_officers_can_adjudicate():
    ctx = SyntheticContext(participants=0, seed=1, rng=random.Random(1))
    synthetic.generate(ctx)
    assert ctx.log[-1] == f"3 sites; {User.objects.count()} user accounts."
    officers = [u for u in User.objects.all() if Role.SAFETY_OFFICER in user_roles(u)]
    assert len(officers) == 2
    again = SyntheticContext(participants=0, seed=1, rng=random.Random(1))
    synthetic.generate(again)  # loading again makes no second set of accounts
    assert again.log[-1] == ctx.log[-1]
    # Four site roles at three sites, the eight other roles once, and the second safety officer.
    assert User.objects.count() == 4 * 3 + 8 + 1
