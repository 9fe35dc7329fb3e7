from ecrf.crf.admin import register_form_admin
from tests.testapp.specs import VITALS

register_form_admin(VITALS)
