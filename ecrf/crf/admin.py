"""Admin for CRFs: read-mostly; a data manager's correction goes through ``form_update`` with a
reason and the version read, so the write guard, audit and concurrency rules hold here too."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from ecrf.audit.models import REASON_MAX_LENGTH
from ecrf.accounts.roles import Role
from ecrf.core.admin import ReadOnlyAdmin, RoleAdmin
from ecrf.core.errors import DomainError
from ecrf.crf import services
from ecrf.crf.models import LockScope, Participant
from ecrf.crf.registry import FormSpec
from ecrf.crf.selectors import forms_for


class _CorrectionForm(forms.ModelForm):
    expected_version = forms.IntegerField(widget=forms.HiddenInput)
    reason_for_change = forms.CharField(label=_("Reason for change"), widget=forms.Textarea(attrs={"rows": 2}),
                                        max_length=REASON_MAX_LENGTH)

    spec: FormSpec
    request: HttpRequest

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["expected_version"].initial = self.instance.version

    def _post_clean(self) -> None:
        # Do not let ModelForm validate or mutate the instance: the service does both.
        if self.errors:
            return
        data = {name: self.cleaned_data[name] for name in self.spec.fields if name in self.cleaned_data}
        stored = self.spec.model.objects.get(pk=self.instance.pk)
        try:
            self.instance = services.form_update(
                actor=self.request.user, spec=self.spec, form=stored, data=data,
                version=self.cleaned_data.get("expected_version"), reason=self.cleaned_data.get("reason_for_change"),
                correction=True,
            )
        except DomainError as exc:
            for name, msgs in exc.fields.items():
                if name in self.fields:
                    for msg in msgs:
                        self.add_error(name, msg)
            self.add_error(None, exc.message)


def register_form_admin(spec: FormSpec) -> None:
    class FormAdmin(RoleAdmin):
        view_roles = frozenset({Role.DATA_MANAGER})
        change_roles = frozenset(spec.correction_roles)
        list_display = ("pk", "participant_link", "status", "version", "updated_at")
        list_filter = ("status",)
        fields = spec.fields + ("expected_version", "reason_for_change")

        @admin.display(description=_("participant"), ordering="participant__screening_number")
        def participant_link(self, obj: Any) -> str:
            """The participant's label, a link to the participant's page (its forms, casebook and history)."""
            return format_html('<a href="{}">{}</a>', reverse("crf:participant-detail", args=[obj.participant_id]),
                               obj.participant.label)

        def get_queryset(self, request: HttpRequest):  # noqa: ANN201
            return forms_for(request.user, spec)

        def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
            return () if self.has_change_permission(request, obj) else spec.fields

        def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
            if self.has_change_permission(request, obj):
                return self.fields
            return spec.fields

        def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):  # noqa: ANN201
            if not self.has_change_permission(request, obj):
                return super().get_form(request, obj, change, **kwargs)
            form_class = type("CorrectionForm", (_CorrectionForm,), {"spec": spec, "request": request})
            kwargs["form"] = form_class
            kwargs["fields"] = spec.fields
            return super().get_form(request, obj, change, **kwargs)

        def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
            pass  # written by the service during validation

        def get_actions(self, request: HttpRequest) -> dict:
            return {}

    FormAdmin.__name__ = f"{spec.model.__name__}Admin"
    admin.site.register(spec.model, FormAdmin)


@admin.register(Participant)
class ParticipantAdmin(ReadOnlyAdmin):
    view_roles = frozenset({Role.DATA_MANAGER})
    list_display = ("screening_number", "subject_id", "site", "randomized_at", "emergency_unblinded")
    list_filter = ("site",)
    search_fields = ("screening_number", "subject_id")


@admin.register(LockScope)
class LockScopeAdmin(ReadOnlyAdmin):
    view_roles = frozenset({Role.DATA_MANAGER})
    list_display = ("level", "kind", "site", "participant", "set_at", "released_at")
