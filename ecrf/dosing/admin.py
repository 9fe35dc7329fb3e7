from ecrf.crf.admin import register_form_admin
from ecrf.dosing.specs import ADMINISTRATION, DISCONTINUATION

register_form_admin(ADMINISTRATION)
register_form_admin(DISCONTINUATION)
