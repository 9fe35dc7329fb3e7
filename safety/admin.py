from ecrf.crf.admin import register_form_admin
from safety.specs import AE_SPEC

register_form_admin(AE_SPEC)
