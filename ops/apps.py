from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operating the whole site: backups and their verification (above every other app)."""

    name = "ops"
    verbose_name = "Operations"
