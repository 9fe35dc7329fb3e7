from ecrf.crf.admin import register_form_admin
from ecrf.medications.specs import CONMED

register_form_admin(CONMED)
