from ecrf.crf.admin import register_form_admin
from ecrf.outcomes.specs import DEATH, END_OF_STUDY, NEW_INFECTION, VITAL_STATUS

for _spec in (DEATH, VITAL_STATUS, NEW_INFECTION, END_OF_STUDY):
    register_form_admin(_spec)
