"""Read-mostly admin for data managers: corrections go through the form services with a reason."""

from django.contrib import admin

from ecrf.accounts.roles import Role
from ecrf.core.admin import ReadOnlyAdmin
from ecrf.crf.admin import register_form_admin
from ecrf.screening.models import LabImport
from ecrf.screening.specs import CENTRAL_LAB, CONSENT, SCREENING

register_form_admin(SCREENING)
register_form_admin(CONSENT)
register_form_admin(CENTRAL_LAB)


@admin.register(LabImport)
class LabImportAdmin(ReadOnlyAdmin):
    view_roles = frozenset({Role.DATA_MANAGER})
    list_display = ("uploaded_at", "filename", "uploaded_by", "status", "row_count")
    list_filter = ("status",)
