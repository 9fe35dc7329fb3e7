from django.apps import AppConfig


class TestAppConfig(AppConfig):
    """A form declared only in the test suite: proves the generic CRF machinery end to end."""

    name = "tests.testapp"
    label = "testapp"

    def ready(self) -> None:
        from tests.testapp import specs  # noqa: F401  (registers the form)
