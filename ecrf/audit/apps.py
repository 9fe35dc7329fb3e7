from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _install_triggers(sender, using="default", **kwargs):  # noqa: ANN001
    # deferred import: the app registry must be ready (integrity imports the audit models, and
    # this module is imported while the registry is being populated).
    from ecrf.audit.integrity import install_append_only_triggers

    install_append_only_triggers(using)


class AuditConfig(AppConfig):
    name = "ecrf.audit"
    label = "audit"
    verbose_name = _("Audit trail")

    def ready(self) -> None:
        # Every app's tables exist after migrate, so the triggers go on afterwards, idempotently.
        post_migrate.connect(_install_triggers, dispatch_uid="ecrf.audit.triggers")
