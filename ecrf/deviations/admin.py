from ecrf.crf.admin import register_form_admin
from ecrf.deviations.specs import DEVIATION

register_form_admin(DEVIATION)
