from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalysisConfig(AppConfig):
    name = "ecrf.analysis"
    label = "analysis"
    verbose_name = _("Analysis")

    def ready(self) -> None:
        # The package's SDTM, ADaM and primary-analysis folders (ecrf.exports.sections contract);
        # the analysis compares arms, so blinded packages do not carry it.
        # deferred import: AppConfig.ready() registrations (the package modules import models,
        # which the app registry must have loaded first).
        from ecrf.analysis import package
        from ecrf.exports.sections import register_section

        register_section("sdtm", order=50, write=package.write_sdtm)
        register_section("adam", order=60, write=package.write_adam)
        register_section("analysis", order=70, write=package.write_analysis, unblinded_only=True)
