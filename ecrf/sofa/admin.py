from ecrf.crf.admin import register_form_admin
from ecrf.sofa.specs import SOFA_DAY

register_form_admin(SOFA_DAY)
