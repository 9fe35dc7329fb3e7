"""The OpenAPI document is generated once per process and is what drf-spectacular generates."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.views import SpectacularAPIView
from rest_framework.test import APIRequestFactory, force_authenticate

from ecrf.accounts.roles import Role
from ecrf.core.schema import forget_documents

pytestmark = pytest.mark.django_db


@pytest.fixture
def generations(monkeypatch):
    """How many times drf-spectacular generated a document (the real generator, counted)."""
    forget_documents()
    calls = []
    original = SchemaGenerator.get_schema

    def counted(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SchemaGenerator, "get_schema", counted)
    yield calls
    forget_documents()


def test_the_document_is_generated_once_and_served_the_same_to_every_user(api, users, generations):
    first = api(users[Role.COORDINATOR]).get("/api/schema/")
    second = api(users[Role.SPONSOR]).get("/api/schema/", HTTP_ACCEPT="application/json")
    third = api(users[Role.MONITOR]).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert first.status_code == second.status_code == third.status_code == 200
    assert len(generations) == 1
    assert second.content == third.content
    assert b"/api/v1/participants/" in first.content


def test_the_kept_document_equals_a_fresh_generation(api, users, generations):
    served = api(users[Role.COORDINATOR]).get("/api/schema/", HTTP_ACCEPT="application/json")
    api(users[Role.COORDINATOR]).get("/api/schema/", HTTP_ACCEPT="application/json")
    request = APIRequestFactory().get("/api/schema/", HTTP_ACCEPT="application/json")
    force_authenticate(request, user=users[Role.COORDINATOR])
    fresh = SpectacularAPIView.as_view()(request)
    fresh.render()
    assert served.content == fresh.content


def test_anonymous_users_get_no_document(client, generations):
    assert client.get("/api/schema/").status_code in (401, 403)
    assert generations == []
