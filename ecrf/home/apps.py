from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HomeConfig(AppConfig):
    """The home page, the top layer: it reads the task providers that apps register into
    ``ecrf.core.home`` (the registry lives on the ground floor so that registering never imports
    upward) and adds its own general ones (``ecrf.home.providers``)."""

    name = "ecrf.home"
    label = "home"
    verbose_name = _("Home page")

    def ready(self) -> None:
        # deferred import: the app registry must be ready (the modules register into it and use models).
        from ecrf.home import providers  # noqa: F401  (registers the general providers)
