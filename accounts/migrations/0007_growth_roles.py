"""Growth (issue 13): Finance manages discount codes; Support and Finance see free trials."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES = {
    "Finance": [
        "billing.view_discountcode",
        "billing.add_discountcode",
        "billing.change_discountcode",
        "billing.delete_discountcode",
        "billing.view_trialclaim",
    ],
    "Support": ["billing.view_trialclaim", "billing.view_discountcode"],
}


def add(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in ROLES.items():
        group, _created = Group.objects.get_or_create(name=name)
        for perm in perms:
            app_label, codename = perm.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_referred_by"),
        ("billing", "0010_growth_trial_discounts_referral"),
    ]

    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
