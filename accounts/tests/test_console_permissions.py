"""The console's own views check model permissions, and private files have no public URL.

Before: a staff user with no permissions got 200 on a receipt's image, on
/media/receipts/… and /media/qrcodes/… (a QR is a customer's working config), and on
an inbound's live client list.
"""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from accounts.tests.samples import make_world
from panels.models import Panel

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(staff_user, customer):
    return make_world(staff_user, customer)


def staff(django_user_model, name, *codenames):
    user = django_user_model.objects.create_user(username=name, password="pw-123", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def test_private_files_have_no_public_url(client, world):
    # Not even a superuser reads MEDIA_ROOT as a folder: files go through the views
    # that check the receipt's or the account's permission.
    client.force_login(world.staff)
    for name in (world.receipt.image.name, world.account.qr_code_path.name):
        assert name.startswith(("receipts/", "qrcodes/"))
        assert client.get(f"/media/{name}").status_code == 404, name


def test_staff_without_permissions_reads_no_private_file(client, world, django_user_model):
    client.force_login(staff(django_user_model, "nobody"))
    pages = {
        "receipt image": reverse("admin:billing_receipt_image", args=[world.receipt.pk]),
        "QR code": reverse("admin:panels_clientaccount_qr", args=[world.account.pk]),
        "inbound clients": reverse("admin:panels_inbound_clients", args=[world.inbound.pk]),
        "media receipt": f"/media/{world.receipt.image.name}",
        "media QR": f"/media/{world.account.qr_code_path.name}",
    }

    statuses = {name: client.get(url).status_code for name, url in pages.items()}

    assert statuses == {
        "receipt image": 403,
        "QR code": 403,
        "inbound clients": 403,
        "media receipt": 404,
        "media QR": 404,
    }


def test_view_permission_opens_the_private_file(client, world, django_user_model):
    client.force_login(staff(django_user_model, "viewer", "view_receipt", "view_clientaccount"))
    image = client.get(reverse("admin:billing_receipt_image", args=[world.receipt.pk]))
    qr = client.get(reverse("admin:panels_clientaccount_qr", args=[world.account.pk]))
    assert (image.status_code, qr.status_code) == (200, 200)
    assert b"".join(image.streaming_content)[:4] == b"\x89PNG"


def test_panel_buttons_take_their_own_permission(client, world, django_user_model):
    # change_panel alone edits the row; logging in to the panel is sync/test's.
    client.force_login(staff(django_user_model, "editor", "view_panel", "change_panel"))
    page = client.get(reverse("admin:panels_panel_change", args=[world.panel.pk]))
    assert page.status_code == 200
    assert reverse("admin:panels_panel_sync", args=[world.panel.pk]) not in page.content.decode()
    for name in ("admin:panels_panel_sync", "admin:panels_panel_test"):
        assert client.post(reverse(name, args=[world.panel.pk])).status_code == 403
    assert Panel.objects.get(pk=world.panel.pk).last_checked_at is None


def test_a_non_superuser_cannot_grant_permissions(client, world, django_user_model):
    support = staff(django_user_model, "support", "view_user", "change_user")
    client.force_login(support)
    customer_url = reverse("admin:accounts_user_change", args=[world.customer.pk])

    page = client.get(customer_url)
    assert page.status_code == 200
    assert 'name="is_superuser"' not in page.content.decode()
    client.post(
        reverse("admin:accounts_user_change", args=[support.pk]),
        {"username": "support", "is_staff": "on", "is_superuser": "on"},
    )
    support.refresh_from_db()
    assert not support.is_superuser
    own_password = reverse("admin:auth_user_password_change", args=[world.staff.pk])
    assert client.get(own_password).status_code == 403
