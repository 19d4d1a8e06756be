"""`manage.py demo` runs a whole purchase on throwaway stand-ins and prints it."""

from django.core.management import call_command

from accounts.models import User


def test_demo_prints_the_conversation_and_the_account_row(capfd, db):
    call_command("demo", language="en")
    out = capfd.readouterr().out
    assert "👤 John: /start" in out
    assert "Your service is ready!" in out
    assert "The resulting row in client_accounts:" in out
    assert "vless://" in out
    assert "Order #1: fulfilled, paid by receipt" in out
    assert not User.objects.exists()  # the real (here: test) database was not touched
