"""Every error of the API is in the JSON error format {"error": {"code", "message", "fields"}}
(400, 401, 403, 404, 405, 409, 413, 415, 429, 500), including the hostile inputs: a body nested
10,000 levels deep, a filter integer beyond 64 bits, a 3 MB body."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from ecrf.accounts.roles import Role
from ecrf.dosing.models import Administration
from tests.support.times import athens, iv

pytestmark = pytest.mark.django_db
URL = "/api/v1/administrations/"




def error_of(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = json.loads(response.content)
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}, body
    assert body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]


def test_400_invalid_field(api, coordinator, randomized):
    response = api(coordinator).post(URL, {"participant": randomized.pk, **iv(athens(2025, 3, 10, 10, 30), 1),
                                           "volume_ml": "9999"}, format="json")
    assert "volume_ml" in error_of(response, 400, "invalid")["fields"]


def test_400_deeply_nested_json_changes_nothing(api, coordinator, randomized):
    body = '{"participant": ' + "[" * 10000 + "]" * 10000 + "}"
    response = api(coordinator).post(URL, body, content_type="application/json")
    assert "nested" in error_of(response, 400, "invalid")["message"]
    assert not Administration.objects.exists()


def test_400_moderately_nested_json_beyond_the_depth_limit(api, coordinator, randomized):
    nested: object = 1
    for _ in range(40):
        nested = [nested]
    body = {"participant": randomized.pk, "reason": nested}
    response = api(coordinator).post(URL, body, format="json")
    assert "nested more than 32 levels" in error_of(response, 400, "invalid")["message"]


def test_400_malformed_json(api, coordinator):
    error = error_of(api(coordinator).post(URL, '{"participant": ', content_type="application/json"), 400, "invalid")
    assert "could not be parsed" in error["message"]


@pytest.mark.parametrize("url", [
    "/api/v1/administrations/?participant=99999999999999999999",
    "/api/v1/administrations/?participant=-99999999999999999999",
    "/api/v1/deaths/?participant=99999999999999999999",
    "/api/v1/sae-reports/?participant=99999999999999999999",
])
def test_400_integer_filter_beyond_64_bits_names_the_parameter(api, users, url):
    response = api(users[Role.DATA_MANAGER]).get(url)
    fields = error_of(response, 400, "invalid")["fields"]
    assert "participant" in fields and "between" in fields["participant"][0], fields


def test_the_largest_64_bit_filter_is_accepted(api, users):
    response = api(users[Role.DATA_MANAGER]).get(f"{URL}?participant={2**63 - 1}")
    assert response.status_code == 200 and response.json()["results"] == []


def test_400_id_in_the_url_beyond_64_bits(api, users):
    response = api(users[Role.DATA_MANAGER]).get(f"{URL}99999999999999999999/")
    assert response.status_code in (400, 404)
    error_of(response, response.status_code)


def test_401_anonymous():
    error_of(APIClient().get(URL), 401, "not_authenticated")


def test_401_bad_token():
    error_of(APIClient(HTTP_AUTHORIZATION="Token 0123456789abcdef").get(URL), 401, "not_authenticated")


def test_403_role_may_not_write(api, users, randomized):
    response = api(users[Role.MONITOR]).post(URL, {"participant": randomized.pk, **iv(athens(2025, 3, 10, 10, 30), 1)},
                                             format="json")
    error_of(response, 403, "forbidden")
    assert not Administration.objects.exists()


def test_404_unknown_api_url(api, coordinator):
    error_of(api(coordinator).get("/api/v1/no-such-resource/"), 404, "not_found")
    error_of(APIClient().get("/api/no-such-version/"), 404, "not_found")


def test_404_record_not_visible(api, coordinator):
    error_of(api(coordinator).get(f"{URL}123456/"), 404, "not_found")


def test_405_method_not_allowed(api, coordinator):
    response = api(coordinator).put(URL, {}, format="json")
    error_of(response, 405, "method_not_allowed")
    assert "POST" in response["Allow"]


def test_409_stale_version(api, coordinator, randomized):
    created = api(coordinator).post(URL, {"participant": randomized.pk, **iv(athens(2025, 3, 10, 10, 30), 1)},
                                    format="json").json()
    response = api(coordinator).patch(f"{URL}{created['id']}/", {"volume_ml": "19", "expected_version": 99}, format="json")
    error_of(response, 409, "stale_version")
    assert str(Administration.objects.get(pk=created["id"]).volume_ml) == "20.00"


def test_413_a_3_mb_json_body(api, coordinator, randomized):
    body = json.dumps({"participant": randomized.pk, "reason": "x" * (3 * 1024 * 1024)})
    error = error_of(api(coordinator).post(URL, body, content_type="application/json"), 413, "request_too_large")
    assert "KB" in error["message"]
    assert not Administration.objects.exists()


def test_413_a_3_mb_form_body(api, coordinator, randomized):
    # A form body is read by Django's middleware before any API view runs.
    response = api(coordinator).post(URL, {"participant": randomized.pk, "reason": "x" * (3 * 1024 * 1024)})
    error_of(response, 413, "request_too_large")
    assert not Administration.objects.exists()


def test_415_unsupported_media_type(api, coordinator):
    response = api(coordinator).post(URL, "participant=1", content_type="text/plain")
    error_of(response, 415, "unsupported_media_type")


@override_settings(ROOT_URLCONF="tests.core.urls_errors")
def test_429_throttled(api, coordinator):
    response = api(coordinator).get("/api/test-errors/throttled/")
    error_of(response, 429, "throttled")
    assert response["Retry-After"] == "30"


@override_settings(ROOT_URLCONF="tests.core.urls_errors")
def test_500_says_nothing_of_the_failure(api, coordinator):
    client = api(coordinator)
    client.raise_request_exception = False
    response = client.get("/api/test-errors/crash/")
    error = error_of(response, 500, "server_error")
    assert "arm" not in response.content.decode() and "participant 7" not in response.content.decode()
    assert "nothing was changed" in error["message"]


def test_pages_keep_their_html_error_pages(client, coordinator):
    client.force_login(coordinator)
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")
