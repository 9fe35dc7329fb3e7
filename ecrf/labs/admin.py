from ecrf.crf.admin import register_form_admin
from ecrf.labs.specs import CENTRAL_LAB_SPEC, LAB_PANEL_SPEC

register_form_admin(LAB_PANEL_SPEC)
register_form_admin(CENTRAL_LAB_SPEC)
