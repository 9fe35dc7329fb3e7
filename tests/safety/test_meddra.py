"""MedDRA import (five levels, links, primary SOC) and coding suggestions."""

from __future__ import annotations

import shutil
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from safety.meddra import DEMO_DIR, coding_for, ensure_demo_dictionary, soc_paths, suggestions
from safety.models import MeddraLink, MeddraRelease, MeddraTerm

pytestmark = pytest.mark.django_db


def test_import_meddra_loads_all_five_levels_links_and_primary_soc(tmp_path):
    release_dir = tmp_path / "MedAscii"
    shutil.copytree(DEMO_DIR, release_dir)
    out = StringIO()
    call_command("import_meddra", str(release_dir), stdout=out)
    assert "DEMO-1.0" in out.getvalue()
    counts = {lvl: MeddraTerm.objects.filter(level=lvl).count() for lvl in ("soc", "hlgt", "hlt", "pt", "llt")}
    assert counts == {"soc": 13, "hlgt": 14, "hlt": 17, "pt": 21, "llt": 58}
    assert MeddraLink.objects.count() == 53  # 21 HLT-PT, 17 HLGT-HLT and 15 SOC-HLGT links
    assert MeddraRelease.objects.get().counts["llt"] == 58
    # Multiaxial: GI haemorrhage sits under two SOCs; its primary SOC is gastrointestinal.
    paths = soc_paths(93000002)
    assert {p["soc_code"] for p in paths} == {90000003, 90000005}
    assert [p["soc_code"] for p in paths if p["primary"]] == [90000005]
    coding = coding_for(94000004)
    assert (coding.llt_name, coding.pt_name, coding.soc_name) == ("Melaena", "Gastrointestinal haemorrhage",
                                                                  "Gastrointestinal disorders (demo)")
    # Importing again replaces the dictionary (no duplicates).
    call_command("import_meddra", "--demo", stdout=StringIO())
    assert MeddraTerm.objects.filter(level="llt").count() == 58


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
    # Terms that start with the word first, then the others, each group by name.
    assert [(c.llt_name, c.pt_name) for c in found] == [
        ("Bleeding", "Haemorrhage"), ("Bleeding at puncture site", "Haemorrhage"),
        ("Bleeding from line site", "Catheter site haemorrhage"), ("Bleeding gums", "Haemorrhage"),
        ("Brain bleeding", "Cerebral haemorrhage"), ("Gastrointestinal bleeding", "Gastrointestinal haemorrhage"),
        ("Intracranial bleeding", "Cerebral haemorrhage"), ("Nose bleeding", "Haemorrhage")]
    # Starts-with first; non-current terms last.
    names = [c.llt_name for c in suggestions("haem")]
    assert names[-1] == "Haemorrhage at catheter NOS"
    assert suggestions("") == []


@pytest.mark.parametrize(("typed", "expected_pt"), [
    ("kidney", "Acute kidney injury"), ("injury kidney", "Acute kidney injury"), ("acute renal", "Acute kidney injury"),
    ("anemia", "Anaemia"), ("bleeding", "Haemorrhage"), ("bleeding gastrointestinal", "Gastrointestinal haemorrhage"),
    ("pneumonia", "Pneumonia"), ("platelets", "Thrombocytopenia"),
])
def test_the_demo_dictionary_finds_common_terms_by_words_in_any_order(typed, expected_pt):
    ensure_demo_dictionary()
    found = suggestions(typed)
    assert expected_pt in {c.pt_name for c in found}, (typed, [c.llt_name for c in found])
    assert all(c.soc_name for c in found)  # every term reaches its primary system organ class
