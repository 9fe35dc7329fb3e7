"""SDTM builders on plain values (no database): study days, long text, blinding."""

from __future__ import annotations

import datetime as dt

import pytest

from ecrf.analysis.sdtm import StudyData, build_ex, build_sdtm, split_text, study_dy
from ecrf.analysis.xpt import check_v5
from ecrf.study.protocol import DEFAULT_PROTOCOL

RANDOMIZED = dt.datetime(2025, 3, 9, 22, 30, tzinfo=dt.UTC)  # 00:30 on 10 March in Athens: day 1 is the 10th


def subject(**changes):  # noqa: ANN003, ANN201
    return {"id": 1, "screening_number": "SCR-1", "subject_id": "A-001", "site_code": "A", "country": "GR",
            "tz": "Europe/Athens", "randomized_at": RANDOMIZED, "age": 70, "sex": "male",
            "sepsis3_at": RANDOMIZED - dt.timedelta(hours=20), "infection_source": "CAP", "covid19": False,
            "phenotype": "MALS", "eligibility": "eligible", "ineligibility_reasons": [], "consented_at": RANDOMIZED,
            "ferritin": None, "ferritin_sampled_at": None, "hla_dr": None, "hla_dr_sampled_at": None, **changes}


def data(**changes) -> StudyData:  # noqa: ANN003
    return StudyData(study_code="ISEP", study_title="Trial", protocol=DEFAULT_PROTOCOL,
                     as_of=dt.datetime(2025, 7, 1, tzinfo=dt.UTC), subjects=[subject()], **changes)


def test_study_day_is_site_local_and_has_no_day_zero():
    s = subject()
    assert study_dy(dt.date(2025, 3, 10), s) == 1  # the UTC date (9 March) would say day 0 or 1 wrongly
    assert study_dy(dt.date(2025, 3, 9), s) == -1
    assert study_dy(dt.datetime(2025, 3, 10, 21, 59, tzinfo=dt.UTC), s) == 1  # 23:59 Athens
    assert study_dy(dt.datetime(2025, 3, 10, 22, 0, tzinfo=dt.UTC), s) == 2  # midnight Athens
    dm = next(d for d in build_sdtm(data()) if d.name == "DM").rows[0]
    assert dm["RFSTDTC"] == "2025-03-10T00:30"


def test_text_over_200_characters_continues_in_supp():
    words = " ".join(f"word{i:03d}" for i in range(60))  # 479 characters
    assert "".join(split_text(words)) == words and all(len(p) <= 200 for p in split_text(words))
    built = {d.name: d for d in build_sdtm(data(deviations=[
        {"id": 7, "participant_id": 1, "category": "other", "description": words, "occurred_on": dt.date(2025, 3, 11),
         "found_by": "monitor", "impact": "minor"}]))}
    dv = built["DV"].rows[0]
    supp = built["SUPPDV"].rows
    assert dv["DVSTDY"] == 2 and len(dv["DVTERM"]) <= 200
    assert dv["DVTERM"] + "".join(r["QVAL"] for r in supp) == words
    assert [r["QNAM"] for r in supp] == ["DVTERM1", "DVTERM2"] and {r["IDVARVAL"] for r in supp} == {"1"}
    for dataset in built.values():
        check_v5(dataset)


def test_blinded_build_has_no_ex_and_no_arm():
    built = {d.name: d for d in build_sdtm(data())}
    assert "EX" not in built
    dm = built["DM"].rows[0]
    assert (dm["ARM"], dm["ARMCD"], dm["ACTARM"], dm["ARMNRS"]) == (None, None, None, "BLINDED")
    with pytest.raises(ValueError, match="unblinded packages"):
        build_ex(data())
    unblinded = {d.name: d for d in build_sdtm(data(arms={1: "active"}))}
    assert "EX" in unblinded and unblinded["DM"].rows[0]["ARM"] == "Precision immunotherapy"


def test_sections_are_registered_and_the_analysis_is_unblinded_only():
    from ecrf.analysis import package
    from ecrf.exports.sections import sections

    blinded = {s.name: s for s in sections(blinded=True)}
    unblinded = {s.name: s for s in sections(blinded=False)}
    assert (blinded["sdtm"].order, blinded["adam"].order) == (50, 60)
    assert blinded["sdtm"].write is package.write_sdtm and blinded["adam"].write is package.write_adam
    assert "analysis" not in blinded and unblinded["analysis"].write is package.write_analysis
