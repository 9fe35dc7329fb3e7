"""MedDRA import (five levels, links, primary SOC) and coding suggestions."""

from __future__ import annotations

import shutil
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from safety.meddra import DEMO_DIR, coding_for, soc_paths, suggestions
from safety.models import MeddraLink, MeddraRelease, MeddraTerm

pytestmark = pytest.mark.django_db


def test_import_meddra_loads_all_five_levels_links_and_primary_soc(tmp_path):
    release_dir = tmp_path / "MedAscii"
    shutil.copytree(DEMO_DIR, release_dir)
    out = StringIO()
    call_command("import_meddra", str(release_dir), stdout=out)
    assert "DEMO-1.0" in out.getvalue()
    counts = {lvl: MeddraTerm.objects.filter(level=lvl).count() for lvl in ("soc", "hlgt", "hlt", "pt", "llt")}
    assert counts == {"soc": 7, "hlgt": 6, "hlt": 7, "pt": 9, "llt": 17}
    assert MeddraLink.objects.count() == 23
    assert MeddraRelease.objects.get().counts["llt"] == 17
    # Multiaxial: GI haemorrhage sits under two SOCs; its primary SOC is gastrointestinal.
    paths = soc_paths(93000002)
    assert {p["soc_code"] for p in paths} == {90000003, 90000005}
    assert [p["soc_code"] for p in paths if p["primary"]] == [90000005]
    coding = coding_for(94000004)
    assert (coding.llt_name, coding.pt_name, coding.soc_name) == ("Melaena", "Gastrointestinal haemorrhage",
                                                                  "Gastrointestinal disorders (demo)")
    # Importing again replaces the dictionary (no duplicates).
    call_command("import_meddra", "--demo", stdout=StringIO())
    assert MeddraTerm.objects.filter(level="llt").count() == 17


def test_import_refuses_an_incomplete_or_inconsistent_release(tmp_path):
    (tmp_path / "soc.asc").write_text("1$X$\n")
    with pytest.raises(CommandError, match="hlgt.asc is missing"):
        call_command("import_meddra", str(tmp_path))
    bad = tmp_path / "bad"
    shutil.copytree(DEMO_DIR, bad)
    (bad / "llt.asc").write_text("94999999$Orphan$12345678$$$$$$$Y$$\n")
    with pytest.raises(CommandError, match="not in pt.asc"):
        call_command("import_meddra", str(bad))
    assert not MeddraTerm.objects.exists()


def test_suggestions_search_current_terms_with_their_hierarchy(meddra, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        found = suggestions("bleeding")
    assert [(c.llt_name, c.pt_name) for c in found] == [("Bleeding from line site", "Catheter site haemorrhage"),
                                                        ("Gastrointestinal bleeding", "Gastrointestinal haemorrhage")]
    # Starts-with first; non-current terms last.
    names = [c.llt_name for c in suggestions("haem")]
    assert names[-1] == "Haemorrhage at catheter NOS"
    assert suggestions("") == []
