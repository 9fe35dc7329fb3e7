"""Password strength: long is not enough (``aaaaaaaaaaaa`` is twelve characters)."""

from __future__ import annotations

import pytest
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError

from ecrf.accounts.models import User
from ecrf.accounts.roles import Role
from ecrf.accounts.services import user_create
from ecrf.core.errors import DomainError
from tests.conftest import PASSWORD


@pytest.mark.parametrize("weak", ["aaaaaaaaaaaa", "abcdefghijkl", "Password1234", "qwertyuiop12", "111111111111a"])
def test_weak_passwords_are_refused(weak):
    with pytest.raises(ValidationError, match="too easy to guess|too common|entirely numeric"):
        password_validation.validate_password(weak, User(username="someone"))


def test_a_password_built_from_the_user_name_is_refused():
    with pytest.raises(ValidationError):
        password_validation.validate_password("mariapapadopoulou1", User(username="maria.papadopoulou"))


@pytest.mark.parametrize("strong", ["Demo-Password-2026!", PASSWORD, "violet-anchor-tram-47"])
def test_the_demo_and_test_passwords_and_passphrases_pass(strong):
    password_validation.validate_password(strong, User(username="someone"))


@pytest.mark.django_db
def test_user_creation_refuses_a_weak_password_and_creates_nothing(site_a):
    with pytest.raises(DomainError) as exc:
        user_create(actor=None, username="weakling", roles=[Role.COORDINATOR], site_codes=[site_a.code],
                    password="aaaaaaaaaaaa")
    assert "password" in exc.value.fields and "too easy to guess" in exc.value.fields["password"][0]
    assert not User.objects.filter(username="weakling").exists()
