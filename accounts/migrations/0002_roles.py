"""The operator roles: one Django group per job (README, "Roles").

The names are English on purpose: they are identifiers that README, tests and later
migrations refer to, and they stay the same whatever the console's language. The
README gives each its Persian label.

A role's permissions are written out here, frozen: a later change to a role is a new
migration, so it is reviewed like code. Operators may change the groups in the
console afterwards; running this again (a fresh database) only adds what is missing.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES = {
    # Checks payment receipts against the bank card and approves or rejects them.
    "Receipt reviewer": [
        "accounts.view_user",
        "billing.view_receipt",
        "billing.review_receipt",
        "billing.view_order",
        "billing.view_wallettransaction",
        "billing.view_bankcard",
        "billing.view_plan",
    ],
    # Answers customers: their accounts on the panels, no money.
    "Support": [
        "accounts.view_user",
        "accounts.change_user",
        "panels.view_clientaccount",
        "panels.extend_clientaccount",
        "panels.disable_clientaccount",
        "panels.regenerate_clientaccount",
        "panels.resend_clientaccount",
        "panels.view_accountreminder",
        "panels.view_panel",
        "panels.view_inbound",
        "billing.view_order",
        "billing.retry_order",
        "billing.view_receipt",
        "billing.view_plan",
        "billing.view_addon",
        "botapp.view_notice",
    ],
    # Money: wallets, refunds, the bank cards customers pay to, prices.
    "Finance": [
        "accounts.view_user",
        "billing.view_wallettransaction",
        "billing.adjust_wallet",
        "billing.view_order",
        "billing.refund_order",
        "billing.view_receipt",
        "billing.view_bankcard",
        "billing.add_bankcard",
        "billing.change_bankcard",
        "billing.delete_bankcard",
        "billing.view_plan",
        "billing.add_plan",
        "billing.change_plan",
        "billing.delete_plan",
        "billing.view_addon",
        "billing.add_addon",
        "billing.change_addon",
        "billing.delete_addon",
    ],
    # The 3x-ui servers: panels, their inbounds, and delivery onto them.
    "Panel admin": [
        "panels.view_panel",
        "panels.add_panel",
        "panels.change_panel",
        "panels.delete_panel",
        "panels.sync_panel",
        "panels.test_panel",
        "panels.view_inbound",
        "panels.change_inbound",
        "panels.view_clientaccount",
        "panels.disable_clientaccount",
        "panels.remove_clientaccount",
        "panels.view_accountreminder",
        "billing.view_order",
        "billing.retry_order",
        "billing.move_order",
        "billing.view_plan",
    ],
}


def create_roles(apps, schema_editor):
    # Permissions are normally created after the whole migrate run (post_migrate);
    # the groups need them now, including the custom ones declared in Meta.
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


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("billing", "0006_permissions"),
        ("panels", "0003_permissions_and_panel_url"),
        ("botapp", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
