"""Allocation lists through the services: generated from a seed (property tests), imported
(refused whole), reproducible, and readable by the statistician alone."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecrf.accounts.roles import Role
from ecrf.core.errors import DomainError
from ecrf.randomization import allocation
from ecrf.randomization.models import AllocationList, Slot, Stratum
from ecrf.randomization.services import (
    allocation_list_generate,
    allocation_list_import,
    allocation_list_verify,
)

pytestmark = pytest.mark.django_db


def stored(record):
    by_stratum = defaultdict(list)
    for key, seq, block, size, arm in Slot.objects.filter(allocation_list=record).order_by("stratum__key", "sequence").values_list(
            "stratum__key", "sequence", "block", "block_size", "arm"):
        by_stratum[key].append((seq, block, size, arm))
    return dict(by_stratum)


@settings(deadline=None, max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.text(min_size=1, max_size=12).filter(lambda s: s.strip() == s and s),
       n=st.integers(min_value=1, max_value=60), sizes=st.sampled_from([(2,), (2, 4), (4, 6), (4, 6, 8)]))
def test_generated_lists_property(users, site_a, site_b, seed, n, sizes):
    with transaction.atomic():
        record = allocation_list_generate(actor=users[Role.STATISTICIAN], seed=seed, slots_per_stratum=n, block_sizes=sizes)
        lists = stored(record)
        assert set(lists) == {"A|MALS", "A|immunoparalysis", "B|MALS", "B|immunoparalysis"}
        for rows in lists.values():
            assert [r[0] for r in rows] == list(range(1, len(rows) + 1))  # no gap
            assert n <= len(rows)
            blocks = defaultdict(list)
            for seq, block, size, arm in rows:
                blocks[block].append((size, arm))
            assert list(blocks) == list(range(1, len(blocks) + 1))
            for members in blocks.values():  # every block complete, balanced, of a configured size
                size = members[0][0]
                assert size in sizes and len(members) == size
                assert Counter(a for _, a in members) == {"active": size // 2, "placebo": size // 2}
        # The same seed gives the same list; the stored one verifies by regeneration.
        again = allocation.generate_allocation_list(strata=[tuple(k.split("|")) for k in lists], slots_per_stratum=n,
                                                    block_sizes=sizes, seed=seed)
        assert allocation.list_checksum(again) == record.checksum
        assert allocation_list_verify(actor=users[Role.STATISTICIAN], allocation_list=record)
        transaction.set_rollback(True)


def test_only_new_strata_and_only_the_statistician(users, site_a, site_b):
    allocation_list_generate(actor=users[Role.STATISTICIAN], seed="s1", slots_per_stratum=10)
    with pytest.raises(DomainError) as info:
        allocation_list_generate(actor=users[Role.STATISTICIAN], seed="s2", slots_per_stratum=10)
    assert info.value.status == 409
    for role in (Role.ADMIN, Role.DATA_MANAGER, Role.PHARMACIST, Role.DSMB):
        with pytest.raises(DomainError) as info:
            allocation_list_generate(actor=users[role], seed="s3", slots_per_stratum=10, strata=[("A", "MALS")])
        assert info.value.status == 403
    assert AllocationList.objects.count() == 1


GOOD = "stratum,sequence,block,block_size,arm\nA|MALS,1,1,2,active\nA|MALS,2,1,2,placebo\n"


def test_import_checksum_and_refusals(users, site_a, site_b):
    statistician = users[Role.STATISTICIAN]
    unbalanced = GOOD.replace("2,1,2,placebo", "2,1,2,active")
    with pytest.raises(DomainError) as info:
        allocation_list_import(actor=statistician, filename="l.csv", content=unbalanced.encode())
    assert info.value.status == 400 and "unbalanced block" in info.value.fields["file"][0]
    with pytest.raises(DomainError) as info:
        allocation_list_import(actor=statistician, filename="l.csv", content=GOOD.replace("A|MALS", "Z|MALS").encode())
    assert "unknown stratum 'Z|MALS'" in info.value.fields["file"][0]
    assert not AllocationList.objects.exists() and not Slot.objects.exists()
    record = allocation_list_import(actor=statistician, filename="l.csv", content=GOOD.encode())
    assert record.source == "imported" and record.checksum == allocation.list_checksum(allocation.parse_allocation_csv(GOOD))
    assert Stratum.objects.get(key="A|MALS").size == 2


def test_lists_are_invisible_to_everybody_but_the_statistician(api, client, users, site_a, site_b):
    record = allocation_list_generate(actor=users[Role.STATISTICIAN], seed="s1", slots_per_stratum=4)
    assert api(users[Role.STATISTICIAN]).get("/api/v1/allocation-lists/").status_code == 200
    slots = api(users[Role.STATISTICIAN]).get(f"/api/v1/allocation-lists/{record.pk}/slots/").json()
    assert slots["count"] == record.slot_count and {s["arm"] for s in slots["results"]} == {"active", "placebo"}
    assert api(users[Role.STATISTICIAN]).get(f"/api/v1/allocation-lists/{record.pk}/verify/").json() == {"reproduced": True}
    for role in Role.values:
        if role == Role.STATISTICIAN:
            continue
        for url in ("/api/v1/allocation-lists/", f"/api/v1/allocation-lists/{record.pk}/",
                    f"/api/v1/allocation-lists/{record.pk}/slots/"):
            assert api(users[role]).get(url).status_code == 403, (role, url)
    # The administrator has no admin screen for lists, slots, assignments or preparations.
    client.force_login(users[Role.ADMIN])
    for path in ("/admin/randomization/allocationlist/", "/admin/randomization/slot/", "/admin/randomization/assignment/",
                 "/admin/pharmacy/preparation/", "/admin/randomization/"):
        assert client.get(path).status_code == 404, path
    index = client.get("/admin/").content.decode().lower()
    assert "allocation" not in index and "preparation" not in index
    client.force_login(users[Role.STATISTICIAN])
    page = client.get(f"/randomization/lists/{record.pk}/")
    assert page.status_code == 200 and "identical" in page.content.decode()
    client.force_login(users[Role.ADMIN])
    assert client.get(f"/randomization/lists/{record.pk}/").status_code == 403


def test_import_through_the_api(api, users, site_a, site_b):
    client = api(users[Role.STATISTICIAN])
    bad = SimpleUploadedFile("l.csv", GOOD.replace("A|MALS,2,1,2,placebo", "A|MALS,2,1,2,active").encode())
    response = client.post("/api/v1/allocation-lists/import/", {"file": bad}, format="multipart")
    assert response.status_code == 400 and "unbalanced" in response.json()["error"]["message"]
    response = client.post("/api/v1/allocation-lists/import/", {"file": SimpleUploadedFile("l.csv", GOOD.encode())},
                           format="multipart")
    assert response.status_code == 201 and response.json()["strata"] == [{"key": "A|MALS", "size": 2, "used": 0}]
