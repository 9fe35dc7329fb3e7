"""Who may see and do what, written out by hand from ARCHITECTURE.md "Roles" and "Who may see what".

These groups are the table's vocabulary; they are never read from the application's settings.
``Own(s)``: ``s`` at the user's own (or assigned) site, 404 for another site's record.
"""

from __future__ import annotations

from tests.permissions.matrix import ROLES, Own

EVERYONE = dict.fromkeys(ROLES, 200)
# Site staff enter CRFs at their own site: "investigator: everything coordinator does";
# "coordinator: screen, consent, randomize, enter CRFs, answer queries, report AEs".
SITE_ENTRY = {"investigator", "coordinator"}
# The blinded casebook: site staff (own site), monitors (assigned sites), data managers (all
# sites) and safety officers (all safety data: the clinical record an AE is assessed against).
CASEBOOK = {"investigator": Own(200), "coordinator": Own(200), "monitor": Own(200), "data_manager": 200,
            "safety_officer": 200}
# Central-lab data: the lab enters it for every site; the casebook readers read it.
CENTRAL_LAB = {**CASEBOOK, "lab": 200}
# Participant identifiers and status (no forms): the casebook readers, the site's pharmacists
# (their own site's assignments) and the central lab (samples of all sites).
PARTICIPANT_LIST = {**CASEBOOK, "pharmacist": Own(200), "lab": 200}
