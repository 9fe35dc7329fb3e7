"""The review app's demo step: partly verified and signed casebooks, a frozen site."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from ecrf.crf.models import LockScope, Participant
from ecrf.review import selectors
from ecrf.review.models import Signature, Verification


@pytest.mark.django_db
def test_the_demo_has_verified_and_signed_casebooks_and_a_frozen_site(capsys):
    call_command("generate_trial", participants=4, seed=5)
    assert "casebooks signed" in capsys.readouterr().out
    randomized = list(Participant.objects.filter(randomized_at__isnull=False).values_list("pk", flat=True))
    states = selectors.casebook_states(randomized)
    signed = [pk for pk, s in states.items() if s.signed]
    assert 0 < len(signed) < len(randomized)
    assert Signature.objects.count() == len(signed)
    reviews = selectors.reviews_for_participants(randomized)
    verified = {pk for pk, rs in reviews.items() if any(r.state == selectors.VState.VERIFIED for r in rs)}
    assert 0 < len(verified) < len(randomized) and Verification.objects.exists()
    frozen = LockScope.objects.get(level="site", released_at__isnull=True)
    assert frozen.kind == "freeze" and frozen.set_by.username == "data_manager"
