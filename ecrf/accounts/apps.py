from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "ecrf.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        # deferred import: the app registry must be ready (the modules register into it and use models).
        from ecrf.accounts import signals  # noqa: F401
