"""Publish policy version 1 with the rulebook's defaults."""

from django.db import migrations

from rebuttal.policy_defaults import DEFAULT_POLICY


def publish_defaults(apps, schema_editor):
    Policy = apps.get_model("rebuttal", "Policy")
    if not Policy.objects.exists():
        # Only the values this migration's model has: later migrations add the rest.
        known = {field.name for field in Policy._meta.get_fields()}
        values = {name: value for name, value in DEFAULT_POLICY.items() if name in known}
        Policy.objects.create(version=1, note="Rulebook defaults", **values)


class Migration(migrations.Migration):
    dependencies = [("rebuttal", "0001_case_policy_audit")]

    operations = [migrations.RunPython(publish_defaults, migrations.RunPython.noop)]
