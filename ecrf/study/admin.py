from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from ecrf.audit.models import REASON_MAX_LENGTH
from ecrf.accounts.roles import Role
from ecrf.core.admin import RoleAdmin
from ecrf.core.errors import DomainError
from ecrf.study.models import Site, Study
from ecrf.study.services import STUDY_EDITABLE, study_update


@admin.register(Site)
class SiteAdmin(RoleAdmin):
    view_roles = change_roles = add_roles = frozenset({Role.ADMIN})
    list_display = ("code", "name", "country", "time_zone", "is_active")

    def save_model(self, request: HttpRequest, obj: Site, form: Any, change: bool) -> None:
        obj._history_user = request.user
        obj._change_reason = "Site configuration (admin)"
        super().save_model(request, obj, form, change)


class StudyForm(forms.ModelForm):
    expected_version = forms.IntegerField(widget=forms.HiddenInput)
    reason_for_change = forms.CharField(label=_("Reason for change"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                        max_length=REASON_MAX_LENGTH,
                                        help_text=_("Required once the study is live."))
    request: HttpRequest

    class Meta:
        model = Study
        fields = STUDY_EDITABLE

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["expected_version"].initial = self.instance.version

    def _post_clean(self) -> None:
        if self.errors:
            return
        stored = Study.objects.get(pk=self.instance.pk)
        changes = {k: self.cleaned_data[k] for k in STUDY_EDITABLE if self.cleaned_data.get(k) != getattr(stored, k)}
        try:
            self.instance = study_update(actor=self.request.user, study=stored, changes=changes,
                                         version=self.cleaned_data["expected_version"],
                                         reason=self.cleaned_data.get("reason_for_change", ""))
        except DomainError as exc:
            self.add_error(None, exc.message)


@admin.register(Study)
class StudyAdmin(RoleAdmin):
    view_roles = change_roles = frozenset({Role.ADMIN})
    list_display = ("code", "title", "is_live")

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):  # noqa: ANN201
        kwargs["form"] = type("BoundStudyForm", (StudyForm,), {"request": request})
        kwargs["fields"] = STUDY_EDITABLE
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return (*STUDY_EDITABLE, "expected_version", "reason_for_change")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        pass  # written by study_update during validation
