"""Who can do what: every console page, console action and API endpoint, per role.

The roles are the groups accounts/migrations/0002_roles.py ships (README, "Roles"),
plus a staff login with no permissions and a superuser. Pages, actions and
endpoints are found by walking admin.site's registry and the API router, so a new
one that EXPECTED does not mention fails the test until someone decides who may use
it. Each is tried for real (a request as that user) and the allowed set compared
with EXPECTED exactly: a new hole and a lost right both show up.
"""

import pytest
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.auth.models import Group
from django.test import RequestFactory
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.tests.samples import make_world
from botapp.models import Broadcast
from moonvpn.api_urls import router
from panels.models import Panel

pytestmark = pytest.mark.django_db

# The roles, by letter: R receipt reviewer, S support, F finance, P panel admin,
# N staff with no permissions, A superuser.
ROLES = {
    "R": "Receipt reviewer",
    "S": "Support",
    "F": "Finance",
    "P": "Panel admin",
    "N": None,
    "A": "superuser",
}

# key -> the roles allowed. Console model pages: "<app.model>:view|add|change|delete"
# (view: its list, change page and history open; change: the change page saves);
# console actions: "<app.model>:action:<name>"; the console's own views:
# "view:<url name>"; the API: "api:<basename>:<action>".
EXPECTED = {
    # --- console: users, groups, API tokens --------------------------------------------
    "accounts.user:view": "RSFA",
    "accounts.user:add": "A",
    "accounts.user:change": "SA",
    "accounts.user:delete": "A",
    "accounts.user:action:delete_selected": "A",
    "view:accounts_user_adjust_wallet": "FA",
    "view:auth_user_password_change": "A",
    # Replacing a customer's subscription link (a leaked link): whoever changes customers.
    "view:accounts_user_subscription_regenerate": "SA",
    "auth.group:view": "A",
    "auth.group:add": "A",
    "auth.group:change": "A",
    "auth.group:delete": "A",
    "auth.group:action:delete_selected": "A",
    "authtoken.tokenproxy:view": "A",
    "authtoken.tokenproxy:add": "A",
    "authtoken.tokenproxy:change": "A",
    "authtoken.tokenproxy:delete": "A",
    # --- console: money ------------------------------------------------------------------
    "billing.plan:view": "RSFPA",
    "billing.plan:add": "FA",
    "billing.plan:change": "FA",
    "billing.plan:delete": "FA",
    "billing.plan:action:delete_selected": "FA",
    "billing.addon:view": "SFA",
    "billing.addon:add": "FA",
    "billing.addon:change": "FA",
    "billing.addon:delete": "FA",
    "billing.addon:action:delete_selected": "FA",
    "billing.bankcard:view": "RFA",
    "billing.bankcard:add": "FA",
    "billing.bankcard:change": "FA",
    "billing.bankcard:delete": "FA",
    "billing.bankcard:action:delete_selected": "FA",
    # The ledger is append-only: nobody adds, changes or deletes a row, superusers included.
    "billing.wallettransaction:view": "RFA",
    "billing.wallettransaction:add": "",
    "billing.wallettransaction:change": "",
    "billing.wallettransaction:delete": "",
    # Growth (issue 13): discount codes are money (Finance); support can read them.
    "billing.discountcode:view": "SFA",
    "billing.discountcode:add": "FA",
    "billing.discountcode:change": "FA",
    "billing.discountcode:delete": "FA",
    "billing.discountcode:action:delete_selected": "FA",
    # Who took the free trial: history, read only.
    "billing.trialclaim:view": "SFA",
    "billing.trialclaim:add": "",
    "billing.trialclaim:change": "",
    "billing.trialclaim:delete": "",
    "billing.order:view": "RSFPA",
    # Broadcasts reach every customer: superusers only until a role is given them.
    "botapp.broadcast:view": "A",
    "botapp.broadcast:add": "A",
    "botapp.broadcast:change": "A",
    "botapp.broadcast:delete": "A",
    "botapp.broadcast:action:delete_selected": "A",
    "botapp.broadcast:action:send_broadcast": "A",
    "botapp.broadcast:action:cancel_broadcast": "A",
    "billing.order:add": "",
    "billing.order:change": "",
    "billing.order:delete": "",
    "billing.order:action:refund_to_wallet": "FA",
    "billing.order:action:retry_provisioning": "SPA",
    "billing.order:action:move_to_another_inbound": "PA",
    "billing.receipt:view": "RSFA",
    "billing.receipt:add": "",
    "billing.receipt:change": "",
    "billing.receipt:delete": "",
    "billing.receipt:action:approve_receipts": "RA",
    "billing.receipt:action:reject_receipts": "RA",
    "view:billing_receipt_approve": "RA",
    "view:billing_receipt_reject": "RA",
    "view:billing_receipt_image": "RSFA",
    # --- console: scheduled jobs (read-only: the scheduler writes them) ---------------
    "ops.jobrun:view": "PA",
    "ops.jobrun:add": "",
    "ops.jobrun:change": "",
    "ops.jobrun:delete": "",
    "botapp.notice:view": "SA",
    "botapp.notice:add": "",
    "botapp.notice:change": "",
    "botapp.notice:delete": "",
    # --- console: panels and accounts ------------------------------------------------
    "panels.panel:view": "SPA",
    "panels.panel:add": "PA",
    "panels.panel:change": "PA",
    "panels.panel:delete": "PA",
    "panels.panel:action:delete_selected": "PA",
    "panels.panel:action:sync_now": "PA",
    "panels.panel:action:test_connection": "PA",
    "view:panels_panel_sync": "PA",
    "view:panels_panel_test": "PA",
    # The drift view: compares the panel and fixes clients/accounts (panel admins).
    "view:panels_panel_drift": "PA",
    "panels.inbound:view": "SPA",
    "panels.inbound:add": "",
    "panels.inbound:change": "PA",
    "panels.inbound:delete": "A",
    "panels.inbound:action:delete_selected": "A",
    "view:panels_inbound_clients": "SPA",
    "panels.clientaccount:view": "SPA",
    "panels.clientaccount:add": "",
    "panels.clientaccount:change": "",
    # No stock delete: it would leave the client working on its panel.
    "panels.clientaccount:delete": "",
    "panels.clientaccount:action:extend_accounts": "SA",
    "panels.clientaccount:action:disable_accounts": "SPA",
    "panels.clientaccount:action:enable_accounts": "SPA",
    "panels.clientaccount:action:delete_accounts": "PA",
    "panels.clientaccount:action:regenerate_links": "SA",
    "panels.clientaccount:action:resend_configs": "SA",
    "view:panels_clientaccount_qr": "SPA",
    "panels.accountreminder:view": "SPA",
    "panels.accountreminder:add": "",
    "panels.accountreminder:change": "",
    "panels.accountreminder:delete": "",
    # --- the API ---------------------------------------------------------------------
    "api:root": "RSFPNA",
    "api:schema": "RSFPNA",
    # The drift view's API (panels.api_drift), like its console page.
    "api:paneldrift:list": "SPA",
    "api:paneldrift:report": "PA",
    "api:paneldrift:fix": "PA",
    "api:panel:list": "SPA",
    "api:panel:retrieve": "SPA",
    "api:panel:create": "PA",
    "api:panel:update": "PA",
    "api:panel:partial_update": "PA",
    "api:panel:destroy": "PA",
    "api:panel:sync": "PA",
    "api:panel:test_connection": "PA",
    "api:inbound:list": "SPA",
    "api:inbound:retrieve": "SPA",
    "api:inbound:update": "PA",
    "api:inbound:partial_update": "PA",
    "api:inbound:clients": "SPA",
    "api:plan:list": "RSFPA",
    "api:plan:retrieve": "RSFPA",
    "api:plan:create": "FA",
    "api:plan:update": "FA",
    "api:plan:partial_update": "FA",
    "api:plan:destroy": "FA",
    "api:addon:list": "SFA",
    "api:addon:retrieve": "SFA",
    "api:addon:create": "FA",
    "api:addon:update": "FA",
    "api:addon:partial_update": "FA",
    "api:addon:destroy": "FA",
    "api:user:list": "RSFA",
    "api:user:retrieve": "RSFA",
    "api:user:adjust_wallet": "FA",
    "api:user:block": "SA",
    "api:user:unblock": "SA",
    "api:order:list": "RSFPA",
    "api:order:retrieve": "RSFPA",
    "api:order:refund": "FA",
    "api:order:retry": "SPA",
    "api:order:move": "PA",
    "api:clientaccount:list": "SPA",
    "api:clientaccount:retrieve": "SPA",
    "api:clientaccount:qr": "SPA",
    "api:clientaccount:extend": "SA",
    "api:clientaccount:disable": "SPA",
    "api:clientaccount:enable": "SPA",
    "api:clientaccount:delete_on_panel": "PA",
    "api:clientaccount:regenerate_link": "SA",
    "api:clientaccount:resend_config": "SA",
    "api:receipt:list": "RSFA",
    "api:receipt:retrieve": "RSFA",
    "api:receipt:image": "RSFA",
    "api:receipt:approve": "RA",
    "api:receipt:reject": "RA",
    "api:bankcard:list": "RFA",
    "api:bankcard:retrieve": "RFA",
    "api:bankcard:create": "FA",
    "api:bankcard:update": "FA",
    "api:bankcard:partial_update": "FA",
    "api:bankcard:destroy": "FA",
    "api:wallettransaction:list": "RFA",
    "api:wallettransaction:retrieve": "RFA",
    # Discount codes, like their console page: Finance manages them, Support reads them.
    "api:discountcode:list": "SFA",
    "api:discountcode:retrieve": "SFA",
    "api:discountcode:create": "FA",
    "api:discountcode:update": "FA",
    "api:discountcode:partial_update": "FA",
    "api:discountcode:destroy": "FA",
    # Broadcasts, like the console: superusers only (queue and cancel take change_broadcast).
    "api:broadcast:list": "A",
    "api:broadcast:retrieve": "A",
    "api:broadcast:create": "A",
    "api:broadcast:update": "A",
    "api:broadcast:partial_update": "A",
    "api:broadcast:destroy": "A",
    "api:broadcast:queue": "A",
    "api:broadcast:cancel": "A",
}

# How to call each of the console's own views: method and the object it is about.
CUSTOM_VIEWS = {
    "accounts_user_adjust_wallet": ("get", "customer"),
    "auth_user_password_change": ("get", "customer"),
    "accounts_user_subscription_regenerate": ("post", "customer"),
    "billing_receipt_approve": ("post", "receipt"),
    "billing_receipt_reject": ("get", "receipt"),
    "billing_receipt_image": ("get", "receipt"),
    "panels_panel_sync": ("post", "panel"),
    "panels_panel_test": ("post", "panel"),
    "panels_panel_drift": ("get", "panel"),
    "panels_inbound_clients": ("get", "inbound"),
    "panels_clientaccount_qr": ("get", "account"),
}

STANDARD_PAGES = ("changelist", "add", "change", "delete", "history")
API_ACTIONS = {
    # action: (method, on one row?)
    "list": ("get", False),
    "retrieve": ("get", True),
    "create": ("post", False),
    "update": ("put", True),
    "partial_update": ("patch", True),
    "destroy": ("delete", True),
}
# Which world row each API basename acts on (a customer, not the staff user).
API_OBJECTS = {
    "user": "customer",
    "clientaccount": "account",
    "bankcard": "card",
    "paneldrift": "panel",
}


def registered():
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label_lower)


def _superuser_request(world):
    request = RequestFactory().get("/admin/")
    request.user = world.staff
    return request


def all_keys(world) -> set[str]:
    """Every page, action and endpoint that exists now."""
    keys = {"api:root", "api:schema"}
    request = _superuser_request(world)
    for model, model_admin in registered():
        label = model._meta.label_lower
        keys |= {f"{label}:{verb}" for verb in ("view", "add", "change", "delete")}
        keys |= {f"{label}:action:{name}" for name in model_admin.get_actions(request)}
        keys |= {f"view:{name}" for name in custom_view_names(model, model_admin)}
    for _prefix, viewset, basename in router.registry:
        keys |= {f"api:{basename}:{a}" for a in API_ACTIONS if hasattr(viewset, a)}
        keys |= {f"api:{basename}:{extra.__name__}" for extra in viewset.get_extra_actions()}
    return keys


def custom_view_names(model, model_admin):
    prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
    standard = {prefix + page for page in STANDARD_PAGES}
    return [
        pattern.name
        for pattern in model_admin.get_urls()
        if getattr(pattern, "name", None) and pattern.name not in standard
    ]


def test_the_table_names_every_page_action_and_endpoint(world):
    found = all_keys(world)
    missing = sorted(found - set(EXPECTED))
    gone = sorted(set(EXPECTED) - found)
    assert not missing, f"not in EXPECTED (decide who may use them): {missing}"
    assert not gone, f"in EXPECTED but no longer exist: {gone}"
    assert set(CUSTOM_VIEWS) == {key[5:] for key in found if key.startswith("view:")}


# --- trying everything as one user ----------------------------------------------------


def login_as(world, letter, django_user_model):
    if letter == "A":
        return world.staff
    user = django_user_model.objects.create_user(
        username=f"role-{letter}", password="pw-123", is_staff=True
    )
    if ROLES[letter]:
        user.groups.add(Group.objects.get(name=ROLES[letter]))
    return user


def objects(world):
    return {
        "customer": world.customer,
        "receipt": world.receipt,
        "panel": world.panel,
        "inbound": world.inbound,
        "account": world.account,
        "card": world.card,
        "plan": world.plan,
        "order": world.order,
        "wallettransaction": world.credit,
        "addon": world.addon,
        "discountcode": world.discount,
        "broadcast": Broadcast.objects.first(),
    }


def admin_allowed(client, user, world) -> set[str]:
    request = RequestFactory().get("/admin/")
    request.user = user
    allowed = set()
    rows = objects(world)
    for model, model_admin in registered():
        label = model._meta.label_lower
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        obj = rows.get(model._meta.model_name) or model._default_manager.first()
        if label == "accounts.user":
            obj = world.customer
        assert obj is not None, f"make_world() has no {label}"
        pk = quote(obj.pk)

        listing = client.get(reverse(f"{info}_changelist")).status_code
        change = client.get(reverse(f"{info}_change", args=[pk]))
        history = client.get(reverse(f"{info}_history", args=[pk])).status_code
        assert {listing, change.status_code, history} <= {200, 403}, label
        assert listing == change.status_code == history, (label, listing, change, history)
        if listing == 200:
            allowed.add(f"{label}:view")
            if change.context_data["has_change_permission"]:
                allowed.add(f"{label}:change")
        add = client.get(reverse(f"{info}_add")).status_code
        delete = client.get(reverse(f"{info}_delete", args=[pk])).status_code
        assert {add, delete} <= {200, 403}, (label, add, delete)
        if add == 200:
            allowed.add(f"{label}:add")
        if delete == 200:
            allowed.add(f"{label}:delete")
        if listing == 200:
            allowed |= {f"{label}:action:{name}" for name in model_admin.get_actions(request)}

    for name, (method, row) in CUSTOM_VIEWS.items():
        url = reverse(f"admin:{name}", args=[rows[row].pk])
        response = getattr(client, method)(url)
        assert response.status_code in (200, 302, 403), (name, response.status_code)
        if response.status_code == 302:
            # A view that did its work redirects back to the console, never to login.
            assert not response.headers["Location"].startswith(reverse("admin:login")), name
        if response.status_code != 403:
            allowed.add(f"view:{name}")
    return allowed


def api_allowed(api, world) -> set[str]:
    allowed = set()
    for key, path in (("api:root", "/api/v1/"), ("api:schema", "/api/v1/schema/")):
        status = api.get(path).status_code
        assert status in (200, 403), key
        if status == 200:
            allowed.add(key)
    rows = objects(world)
    later = []  # deletes go last: the rows are needed until then
    for prefix, viewset, basename in router.registry:
        row = rows[API_OBJECTS.get(basename, basename)]
        calls = []
        for action, (method, detail) in API_ACTIONS.items():
            if hasattr(viewset, action):
                path = f"/api/v1/{prefix}/{row.pk}/" if detail else f"/api/v1/{prefix}/"
                calls.append((action, method, path))
        for extra in viewset.get_extra_actions():
            for method in extra.mapping:
                calls.append(
                    (extra.__name__, method, f"/api/v1/{prefix}/{row.pk}/{extra.url_path}/")
                )
        for action, method, path in calls:
            call = (f"api:{basename}:{action}", method, path)
            if method == "delete":
                later.append(call)
            else:
                allowed |= _try(api, *call)
    for call in later:
        allowed |= _try(api, *call)
    return allowed


def _try(api, key, method, path) -> set[str]:
    # An empty body: a permitted write answers 200/400/409, a refused one 403 — the
    # permission is checked before the body is read.
    response = getattr(api, method)(path, {}, format="json")
    assert response.status_code in (200, 201, 204, 400, 403, 409), (key, response.status_code)
    return set() if response.status_code == 403 else {key}


@pytest.fixture
def world(staff_user, customer, fake_xui, settings):
    settings.PANEL_CONNECT_TIMEOUT, settings.PANEL_READ_TIMEOUT = 1.0, 2.0
    world = make_world(staff_user, customer)
    # The panel buttons log in for real: point the sample panel at the fake 3x-ui
    # (update(): the row's secrets belong to this URL from the start).
    Panel.objects.filter(pk=world.panel.pk).update(
        base_url=fake_xui.url, username=fake_xui.username, password=fake_xui.password
    )
    world.panel.refresh_from_db()
    return world


@pytest.mark.parametrize("letter", list(ROLES), ids=lambda letter: ROLES[letter] or "no perms")
def test_each_role_can_do_exactly_what_the_table_says(world, letter, client, django_user_model):
    user = login_as(world, letter, django_user_model)
    client.force_login(user)
    api = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")

    allowed = admin_allowed(client, user, world) | api_allowed(api, world)

    expected = {key for key, letters in EXPECTED.items() if letter in letters}
    assert sorted(allowed - expected) == [], "allowed but not in the table"
    assert sorted(expected - allowed) == [], "in the table but refused"


def test_the_roles_are_shipped_as_groups():
    assert set(Group.objects.values_list("name", flat=True)) >= {
        name for name in ROLES.values() if name and name != "superuser"
    }
