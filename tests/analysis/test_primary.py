"""The primary analysis's statistics on hand-computed tables and on the published counts."""

from __future__ import annotations

import pytest

from ecrf.analysis.primary import ACTIVE, PLACEBO, AnalysisError, compare, primary_analysis, summary_line


def test_published_counts_give_the_published_figures():
    # JAMA 2025: 46/131 responders with precision immunotherapy vs 26/145 with placebo.
    result = compare(46, 131, 26, 145)
    c = result["comparison"]
    assert f"{100 * result['active']['proportion']:.1f}" == "35.1"
    assert f"{100 * result['placebo']['proportion']:.1f}" == "17.9"
    assert f"{100 * c['difference']:.1f}" == "17.2"
    assert [f"{100 * x:.1f}" for x in c["newcombe95"]] == ["6.8", "27.2"]
    assert f"{c['chi2_yates_p']:.3f}" == "0.002"
    line = summary_line({"primary": result})
    assert line == ("Responders 35.1% (46/131) vs 17.9% (26/145); difference 17.2% (95% CI 6.8 to 27.2), P = .002")


def test_hand_computed_two_by_two():
    # [[3, 1], [1, 3]]: Yates chi-square = (|9 - 1| - 8/2)^2 * 8 / (4 * 4 * 4 * 4) = 0.5, P = 0.4795;
    # Fisher two-sided: tables with x = 0, 1, 3, 4 of C(4,x)C(4,4-x)/C(8,4): (1+16+16+1)/70.
    c = compare(3, 4, 1, 4)["comparison"]
    assert c["difference"] == 0.5
    assert c["chi2_yates"] == pytest.approx(0.5)
    assert c["chi2_yates_p"] == pytest.approx(0.4795, abs=1e-4)
    assert c["fisher_p"] == pytest.approx(34 / 70, abs=1e-6)
    assert c["odds_ratio"] == pytest.approx(9.0)


def test_newcombe_hybrid_score_matches_newcombes_example():
    # Newcombe, Stat Med 1998;17:873, example (a): 56/70 - 48/80, method 10: 0.0524 to 0.3339.
    lo, hi = compare(56, 70, 48, 80)["comparison"]["newcombe95"]
    assert (round(lo, 4), round(hi, 4)) == (0.0524, 0.3339)


def _adam(people):  # noqa: ANN001, ANN202
    adsl, adsofa = [], []
    for i, (arm, mitt, crit, evaluable, pheno) in enumerate(people):
        u = f"S-{i:03d}"
        adsl.append({"USUBJID": u, "TRT01P": arm, "SITEID": "A" if i % 2 else "B", "PHENO": pheno,
                     "MITTFL": mitt, "EVALFL": evaluable, "D28DTHFL": "N", "D90DTHFL": "N"})
        adsofa.append({"USUBJID": u, "PARAMCD": "SOFAR29", "CRIT1FL": crit, "AVAL": None, "AVISITN": None})
    return adsl, adsofa


def test_analysis_counts_mitt_only_and_not_evaluable_as_non_responders():
    adsl, adsofa = _adam([
        (ACTIVE, "Y", "Y", "Y", "MALS"), (ACTIVE, "Y", "Y", "Y", "IMMUNOPARALYSIS"), (ACTIVE, "Y", "N", "N", "MALS"),
        (PLACEBO, "Y", "N", "Y", "MALS"), (PLACEBO, "Y", "Y", "Y", "MALS"), (PLACEBO, "N", "Y", "Y", "MALS"),
    ])
    result = primary_analysis(adsl, adsofa)
    p = result["primary"]
    assert (p["active"]["responders"], p["active"]["n"]) == (2, 3)
    assert (p["placebo"]["responders"], p["placebo"]["n"]) == (1, 2)  # the non-mITT responder is not counted
    assert result["not_evaluable_counted_as_non_responders"] == {ACTIVE: 1, PLACEBO: 0}
    assert result["analysed"] == 5 and result["randomized"] == 6
    mals = result["by_phenotype"]["MALS"]
    assert (mals["active"]["responders"], mals["active"]["n"], mals["placebo"]["n"]) == (1, 2, 2)


def test_a_blinded_adam_is_refused():
    adsl, adsofa = _adam([(ACTIVE, "Y", "Y", "Y", "MALS")])
    for row in adsl:
        del row["TRT01P"]
    with pytest.raises(AnalysisError, match="blinded"):
        primary_analysis(adsl, adsofa)
