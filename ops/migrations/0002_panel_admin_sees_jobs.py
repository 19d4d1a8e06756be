"""Panel admins watch the scheduled jobs (README, "Roles"): they see JobRun rows."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant(apps, schema_editor):
    # The permission is normally created after the whole migrate run (post_migrate).
    ops = apps.get_app_config("ops")
    ops.models_module = True
    create_permissions(ops, apps=apps, verbosity=0)
    ops.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    view = Permission.objects.get(content_type__app_label="ops", codename="view_jobrun")
    for group in Group.objects.filter(name="Panel admin"):
        group.permissions.add(view)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name="Panel admin"):
        group.permissions.remove(*group.permissions.filter(codename="view_jobrun"))


class Migration(migrations.Migration):
    dependencies = [
        ("ops", "0001_initial"),
        ("accounts", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
