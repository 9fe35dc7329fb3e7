"""CDISC controlled terminology the datasets use, and the project's codes mapped onto it. No Django.

Submission values follow the CDISC SDTM Controlled Terminology (NCI EVS) where CDISC defines the
code list (SEX, AGEU, NY, AEOUT, ACN, ROUTE, NRIND, DS decodes, ...). Where CDISC defines none,
the code list is sponsor-defined and says so in Define-XML (``Extensible`` / no NCI code):

- SOFA: CDISC has published no SOFA clinical-classification supplement, so the RS test codes of
  the six organ subscores and the total are sponsor-defined (``SOFA_TESTS``).
- HLA-DR receptors per monocyte (flow cytometry, Quantibrite) has no LBTESTCD; ``HLADRMON``.
- Blinded packages: the arm variables of DM are null and ARMNRS (an extensible code list) says
  ``BLINDED``: the reason the arm is null is that the package is blinded, for every randomized
  subject alike, so the value tells nothing about any arm.
"""

from __future__ import annotations

from typing import Final

SDTMIG_VERSION: Final = "3.4"
SDTM_VERSION: Final = "2.0"
ADAMIG_VERSION: Final = "1.3"
CT_VERSION: Final = "2024-03-29"  # the SDTM CT package the submission values are taken from

SEX: Final = {"female": "F", "male": "M"}
NY: Final = ("N", "Y")

AE_OUTCOME: Final = {
    "recovered": "RECOVERED/RESOLVED",
    "recovering": "RECOVERING/RESOLVING",
    "not_recovered": "NOT RECOVERED/NOT RESOLVED",
    "sequelae": "RECOVERED/RESOLVED WITH SEQUELAE",
    "fatal": "FATAL",
    "unknown": "UNKNOWN",
}
ACTION_TAKEN: Final = {
    "none": "DOSE NOT CHANGED",
    "interrupted": "DRUG INTERRUPTED",
    "withdrawn": "DRUG WITHDRAWN",
    "not_applicable": "NOT APPLICABLE",
}
ACTION_MULTIPLE: Final = "MULTIPLE"  # ACN: the two study drugs had different actions (SUPPAE has each)
# WHO-UMC categories (collected, per route in SUPPAE) -> AEREL (sponsor's NY-like relatedness).
RELATED_CATEGORIES: Final = frozenset({"certain", "probable", "possible"})

ROUTE: Final = {
    "oral": "ORAL",
    "iv": "INTRAVENOUS",
    "im": "INTRAMUSCULAR",
    "sc": "SUBCUTANEOUS",
    "inhaled": "RESPIRATORY (INHALATION)",
    "topical": "TOPICAL",
    "other": "OTHER",
}
DOSE_UNIT: Final = {"mg": "mg", "g": "g", "ug": "ug", "ug/kg/min": "ug/kg/min", "IU": "IU", "mL": "mL"}

# DS: (DSCAT, DSDECOD) of each milestone and disposition (NCOMPLT / PROTMLST code lists).
DS_CONSENT: Final = ("PROTOCOL MILESTONE", "INFORMED CONSENT OBTAINED")
DS_RANDOMIZED: Final = ("PROTOCOL MILESTONE", "RANDOMIZED")
DS_SCREEN_FAILURE: Final = ("DISPOSITION EVENT", "SCREEN FAILURE")
DS_DISPOSITION: Final = {
    "completed": "COMPLETED",
    "died": "DEATH",
    "withdrew_treatment": "WITHDRAWAL BY SUBJECT",
    "withdrew_data_collection": "WITHDRAWAL BY SUBJECT",
    "withdrew_data_use": "WITHDRAWAL BY SUBJECT",
    "lost_to_follow_up": "LOST TO FOLLOW-UP",
}
DS_DEATH: Final = "DEATH"

# LB: analyte -> (LBTESTCD, LBTEST, LBCAT, LBSPEC).
LAB_TESTS: Final = {
    "hemoglobin": ("HGB", "Hemoglobin", "HEMATOLOGY", "BLOOD"),
    "white_cells": ("WBC", "Leukocytes", "HEMATOLOGY", "BLOOD"),
    "neutrophils": ("NEUT", "Neutrophils", "HEMATOLOGY", "BLOOD"),
    "platelets": ("PLAT", "Platelets", "HEMATOLOGY", "BLOOD"),
    "bilirubin": ("BILI", "Bilirubin", "CHEMISTRY", "SERUM"),
    "creatinine": ("CREAT", "Creatinine", "CHEMISTRY", "SERUM"),
    "ferritin": ("FERRITIN", "Ferritin", "CHEMISTRY", "SERUM"),
    "hla_dr": ("HLADRMON", "HLA-DR Receptors per Monocyte", "IMMUNOLOGY", "BLOOD"),
}
HLA_DR_UNIT: Final = "receptors/cell"

# RS: SOFA organ subscores and total (sponsor-defined test codes, see the module docstring).
SOFA_CATEGORY: Final = "SOFA"
SOFA_TESTS: Final = (
    ("respiration", "SOFARESP", "SOFA-Respiration Subscore"),
    ("coagulation", "SOFACOAG", "SOFA-Coagulation Subscore"),
    ("liver", "SOFALIVR", "SOFA-Liver Subscore"),
    ("cardiovascular", "SOFACV", "SOFA-Cardiovascular Subscore"),
    ("cns", "SOFACNS", "SOFA-Central Nervous System Subscore"),
    ("renal", "SOFARENL", "SOFA-Renal Subscore"),
    ("total", "SOFATOT", "SOFA-Total Score"),
)
SOFA_TOTAL_TESTCD: Final = "SOFATOT"

# MH / CE: the infection focus at screening and new infections.
INFECTION_FOCUS: Final = {
    "CAP": "Community-acquired pneumonia",
    "HAP": "Hospital-acquired pneumonia",
    "VAP": "Ventilator-associated pneumonia",
    "BSI": "Primary bacteremia",
    "other": "Other source of infection",
}
ARM_NULL_BLINDED: Final = "BLINDED"
ARM_NULL_SCREEN_FAILURE: Final = "SCREEN FAILURE"
ARM_NULL_NOT_TREATED: Final = "ASSIGNED, NOT TREATED"
ARMS: Final = {"active": ("ACTIVE", "Precision immunotherapy"), "placebo": ("PLACEBO", "Placebo")}

# ISO 3166-1 alpha-2 (how sites are configured) -> alpha-3 (what DM.COUNTRY requires). The
# countries of European and North American trial sites; a site elsewhere is refused by name.
COUNTRY_ALPHA3: Final = {
    "AT": "AUT", "BE": "BEL", "BG": "BGR", "CA": "CAN", "CH": "CHE", "CY": "CYP", "CZ": "CZE", "DE": "DEU",
    "DK": "DNK", "EE": "EST", "ES": "ESP", "FI": "FIN", "FR": "FRA", "GB": "GBR", "GR": "GRC", "HR": "HRV",
    "HU": "HUN", "IE": "IRL", "IS": "ISL", "IT": "ITA", "LT": "LTU", "LU": "LUX", "LV": "LVA", "MT": "MLT",
    "NL": "NLD", "NO": "NOR", "PL": "POL", "PT": "PRT", "RO": "ROU", "RS": "SRB", "SE": "SWE", "SI": "SVN",
    "SK": "SVK", "TR": "TUR", "UA": "UKR", "US": "USA", "IL": "ISR",
}


def country_alpha3(code: str) -> str:
    try:
        return COUNTRY_ALPHA3[code.upper()]
    except KeyError:
        raise ValueError(f"Site country {code!r} has no ISO 3166-1 alpha-3 code in "
                         "ecrf.analysis.terminology.COUNTRY_ALPHA3; add it there.") from None


# Code lists Define-XML describes: name -> (data type, extensible?, [submission values]).
CODELISTS: Final[dict[str, tuple[str, bool, tuple[str, ...]]]] = {
    "SEX": ("text", False, ("F", "M")),
    "AGEU": ("text", False, ("YEARS",)),
    "NY": ("text", False, NY),
    "OUT": ("text", False, tuple(AE_OUTCOME.values())),
    "ACN": ("text", False, (*ACTION_TAKEN.values(), ACTION_MULTIPLE)),
    "ROUTE": ("text", True, tuple(ROUTE.values())),
    "NRIND": ("text", False, ("HIGH", "LOW", "NORMAL")),
    "ARMNRS": ("text", True, (ARM_NULL_NOT_TREATED, ARM_NULL_BLINDED, ARM_NULL_SCREEN_FAILURE)),
    "LBTESTCD": ("text", True, tuple(t[0] for t in LAB_TESTS.values())),
    "RSTESTCD": ("text", True, tuple(t[1] for t in SOFA_TESTS)),
    "AEREL": ("text", True, ("NOT RELATED", "RELATED")),
    "DSDECOD": ("text", True, tuple(sorted({DS_CONSENT[1], DS_RANDOMIZED[1], DS_SCREEN_FAILURE[1],
                                            *DS_DISPOSITION.values()}))),
}
