"""The trial's primary analysis from the package's ADaM (trial.md "Primary endpoint"). No Django.

Population: mITT (ADSL.MITTFL = "Y"). Responder: ADSOFA PARAMCD "SOFAR29" CRIT1FL = "Y"
(response > 1.4, strict); a not-evaluable participant of the mITT counts as a non-responder and
the count is reported. Per arm: responders n/N, % with the Wilson interval; the difference
(active - placebo) with the 95% Newcombe hybrid score interval (statsmodels, method "newcomb");
Pearson's chi-square with Yates' correction and Fisher's exact test (scipy); the same per
phenotype; a logistic model of response on arm adjusted for site; 28- and 90-day mortality.

A blinded ADaM has no arm: the analysis is refused (``AnalysisError``), no number is produced.
"""

from __future__ import annotations

import math
import warnings
from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

ACTIVE = "Precision immunotherapy"
PLACEBO = "Placebo"
ARMS = (ACTIVE, PLACEBO)
ROUND = 6


class AnalysisError(ValueError):
    pass


def _r(value: float | None) -> float | None:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return round(float(value), ROUND)


def wilson(count: int, nobs: int) -> tuple[float | None, float | None]:
    # deferred import: statsmodels and scipy load in about a second and tens of MiB; every web and worker
    # process imports this module (through the package-section registry), only the analysis step uses them.
    from statsmodels.stats.proportion import proportion_confint

    if nobs == 0:
        return None, None
    lo, hi = proportion_confint(count, nobs, alpha=0.05, method="wilson")
    return _r(lo), _r(hi)


def compare(r1: int, n1: int, r2: int, n2: int) -> dict[str, Any]:
    """Group 1 (active) against group 2 (placebo): proportions, difference with the Newcombe
    hybrid score interval, chi-square with Yates' correction, Fisher's exact test, odds ratio."""
    # deferred import: statsmodels and scipy load in about a second and tens of MiB; every web and worker
    # process imports this module (through the package-section registry), only the analysis step uses them.
    from scipy.stats import chi2_contingency, fisher_exact
    from statsmodels.stats.proportion import confint_proportions_2indep

    out: dict[str, Any] = {
        "active": {"responders": r1, "n": n1, "proportion": _r(r1 / n1) if n1 else None, "wilson95": wilson(r1, n1)},
        "placebo": {"responders": r2, "n": n2, "proportion": _r(r2 / n2) if n2 else None, "wilson95": wilson(r2, n2)},
    }
    if not n1 or not n2:
        out["comparison"] = None
        out["comparison_reason"] = "An arm has no participants."
        return out
    lo, hi = confint_proportions_2indep(r1, n1, r2, n2, method="newcomb", compare="diff", alpha=0.05)
    table = [[r1, n1 - r1], [r2, n2 - r2]]
    comparison: dict[str, Any] = {"difference": _r(r1 / n1 - r2 / n2), "newcombe95": [_r(lo), _r(hi)]}
    if min(r1 + r2, n1 + n2 - r1 - r2) == 0:
        comparison["chi2_yates"] = None
        comparison["chi2_yates_p"] = None
    else:
        chi2, p, _, _ = chi2_contingency(table, correction=True)
        comparison["chi2_yates"] = _r(chi2)
        comparison["chi2_yates_p"] = _r(p)
    odds, fisher_p = fisher_exact(table)
    comparison["fisher_p"] = _r(fisher_p)
    comparison["odds_ratio"] = _r(odds)
    out["comparison"] = comparison
    return out


def logistic_site(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Logistic regression of response on arm (active = 1) adjusted for site (fixed effects)."""
    # deferred import: numpy and statsmodels load in about a second and tens of MiB; every web and worker
    # process imports this module (through the package-section registry), only the analysis step uses them.
    import numpy as np
    import statsmodels.api as sm

    sites = sorted({r["site"] for r in rows})
    y = np.array([1.0 if r["responder"] else 0.0 for r in rows])
    columns = [np.ones(len(rows)), np.array([1.0 if r["arm"] == ACTIVE else 0.0 for r in rows])]
    columns += [np.array([1.0 if r["site"] == s else 0.0 for r in rows]) for s in sites[1:]]
    x = np.column_stack(columns)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            fit = sm.Logit(y, x).fit(disp=False, maxiter=100)
        beta, (lo, hi), p = fit.params[1], fit.conf_int()[1], fit.pvalues[1]
    except Exception as exc:  # noqa: BLE001 - separation, singular design, non-convergence
        return {"estimable": False, "reason": f"{type(exc).__name__}: {exc}"[:200], "sites": len(sites)}
    return {"estimable": True, "odds_ratio": _r(math.exp(beta)), "ci95": [_r(math.exp(lo)), _r(math.exp(hi))],
            "p": _r(p), "sites": len(sites)}


def primary_analysis(adsl: Sequence[Mapping[str, Any]], adsofa: Sequence[Mapping[str, Any]], *,
                     threshold: Decimal | str = "1.4") -> dict[str, Any]:
    """The primary analysis of an unblinded ADaM (rows of ADSL and ADSOFA)."""
    if not adsl or "TRT01P" not in adsl[0]:
        raise AnalysisError("This ADaM is blinded (ADSL has no TRT01P): the primary analysis compares arms and "
                            "needs an unblinded package.")
    response = {r["USUBJID"]: r for r in adsofa if r["PARAMCD"] == "SOFAR29"}
    people = []
    for s in adsl:
        if s["MITTFL"] != "Y":
            continue
        r = response.get(s["USUBJID"])
        people.append({"usubjid": s["USUBJID"], "arm": s["TRT01P"], "site": s["SITEID"], "pheno": s["PHENO"],
                       "responder": bool(r and r["CRIT1FL"] == "Y"), "evaluable": s["EVALFL"] == "Y",
                       "d28": s["D28DTHFL"] == "Y", "d90": s["D90DTHFL"] == "Y"})

    def counts(group: Sequence[Mapping[str, Any]], key: str = "responder") -> dict[str, Any]:
        n = {a: sum(1 for p in group if p["arm"] == a) for a in ARMS}
        r = {a: sum(1 for p in group if p["arm"] == a and p[key]) for a in ARMS}
        return compare(r[ACTIVE], n[ACTIVE], r[PLACEBO], n[PLACEBO])

    phenotypes = sorted({p["pheno"] for p in people if p["pheno"]})
    sofa: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    arm_of = {p["usubjid"]: p["arm"] for p in people}
    for r in adsofa:
        if r["PARAMCD"] == "SOFA" and r["USUBJID"] in arm_of and r["AVAL"] is not None:
            sofa[arm_of[r["USUBJID"]]][int(r["AVISITN"])].append(float(r["AVAL"]))
    return {
        "population": "mITT (randomized, at least one dose)",
        "responder_definition": f"SOFA day 1 - mean SOFA days 2-9 > {threshold}",
        "randomized": len(adsl),
        "analysed": len(people),
        "not_evaluable_counted_as_non_responders": {a: sum(1 for p in people if p["arm"] == a and not p["evaluable"])
                                                    for a in ARMS},
        "primary": counts(people),
        "by_phenotype": {ph: counts([p for p in people if p["pheno"] == ph]) for ph in phenotypes},
        "logistic_adjusted_for_site": logistic_site(people) if people else {"estimable": False, "reason": "No data."},
        "mortality_day28": counts(people, "d28"),
        "mortality_day90": counts(people, "d90"),
        "mean_sofa_by_day": {a: {str(day): _r(sum(v) / len(v)) for day, v in sorted(sofa[a].items())} for a in ARMS},
    }


def percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def summary_line(result: Mapping[str, Any]) -> str:
    """The published sentence: responders per arm, difference with its interval, P."""
    p = result["primary"]
    c = p["comparison"]
    if c is None:
        return "Responders: not comparable (an arm is empty)."
    lo, hi = c["newcombe95"]
    pval = c["chi2_yates_p"]
    ptext = "-" if pval is None else ("<.001" if pval < 0.001 else f"{pval:.3f}".lstrip("0"))
    return (f"Responders {percent(p['active']['proportion'])} ({p['active']['responders']}/{p['active']['n']}) vs "
            f"{percent(p['placebo']['proportion'])} ({p['placebo']['responders']}/{p['placebo']['n']}); difference "
            f"{100 * c['difference']:.1f}% (95% CI {100 * lo:.1f} to {100 * hi:.1f}), P = {ptext}")
