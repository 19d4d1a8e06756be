"""`manage.py backup` and `manage.py restore`: everything an operator would miss comes back."""

import shutil
import tarfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from accounts.tests.samples import PANEL_PASSWORD, make_world
from billing.models import Order, Receipt, WalletTransaction
from panels.models import ClientAccount, Panel


def _snapshot():
    return {
        "customers": sorted(User.objects.values_list("pk", "username", "telegram_id", "balance")),
        "ledger": sorted(
            WalletTransaction.objects.values_list(
                "pk", "user_id", "amount", "balance_after", "kind", "idempotency_key"
            )
        ),
        "orders": sorted(Order.objects.values_list("pk", "user_id", "status", "amount")),
        "accounts": sorted(
            ClientAccount.objects.values_list("pk", "email", "uuid", "config_url", "status")
        ),
        "receipts": sorted(Receipt.objects.values_list("pk", "order_id", "sha256", "status")),
    }


# Transactional: flush (TRUNCATE on MariaDB) cannot run inside a test's transaction.
@pytest.mark.django_db(transaction=True)
def test_a_backup_restored_into_an_empty_database_has_everything(
    tmp_path, settings, staff_user, customer
):
    world = make_world(staff_user, customer)
    receipt_image = Path(world.receipt.image.path).read_bytes()
    qr_image = Path(world.account.qr_code_path.path).read_bytes()
    before = _snapshot()
    assert (
        before["ledger"]
        and before["receipts"]
        and customer.pk in dict((row[0], row) for row in before["customers"])
    )
    archive = tmp_path / "moonvpn-backup.tar.gz"

    call_command("backup", str(archive))
    assert archive.stat().st_mode & 0o077 == 0  # panel passwords inside: owner only

    call_command("flush", "--no-input")  # an empty database, as after migrate
    shutil.rmtree(settings.MEDIA_ROOT)
    assert not User.objects.exists()
    call_command("restore", str(archive))

    assert _snapshot() == before
    assert User.objects.get(pk=customer.pk).balance == world.credit.balance_after
    restored = Receipt.objects.get(pk=world.receipt.pk)
    assert Path(restored.image.path).read_bytes() == receipt_image
    account = ClientAccount.objects.get(pk=world.account.pk)
    assert Path(account.qr_code_path.path).read_bytes() == qr_image
    assert Panel.objects.get(pk=world.panel.pk).password == PANEL_PASSWORD
    staff = User.objects.get(username="operator")
    assert staff.check_password("operator-pass-123")


@pytest.mark.django_db
def test_restore_refuses_a_database_that_is_not_empty(tmp_path, customer):
    archive = tmp_path / "b.tar.gz"
    call_command("backup", str(archive))
    with pytest.raises(CommandError, match="the database is not empty"):
        call_command("restore", str(archive))


@pytest.mark.django_db
def test_restore_refuses_an_archive_reaching_outside(tmp_path):
    archive = tmp_path / "evil.tar.gz"
    (tmp_path / "db.json").write_text("[]")
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "db.json", "db.json")
        tar.add(tmp_path / "db.json", "../../escaped.json")
    with pytest.raises(CommandError, match="unsafe entry"):
        call_command("restore", str(archive))
    assert not (tmp_path.parent.parent / "escaped.json").exists()


@pytest.mark.django_db
def test_the_daily_backup_keeps_the_newest_backup_keep(tmp_path, settings):
    settings.BACKUP_DIR = str(tmp_path / "backups")
    settings.BACKUP_KEEP = 2
    old = Path(settings.BACKUP_DIR)
    old.mkdir()
    for day in ("20260101", "20260102", "20260103"):
        (old / f"moonvpn-{day}-030000.tar.gz").write_bytes(b"old")
    (old / "notes.txt").write_text("not ours")
    call_command("backup")
    kept = sorted(path.name for path in old.iterdir())
    assert len(kept) == 3 and kept[0] == "moonvpn-20260103-030000.tar.gz"
    assert kept[1].startswith("moonvpn-2026") and kept[2] == "notes.txt"
    with tarfile.open(old / kept[1]) as tar:
        assert "db.json" in tar.getnames()
