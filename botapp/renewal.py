"""Messages about an account's lifecycle, sent through botapp.telegram's wrapper."""

from django.utils import translation
from django.utils.translation import gettext as _

from botapp import telegram as tg
from panels.models import ClientAccount


def new_link_text() -> str:
    return _(
        "🔑 Your service was given a new link. The old one no longer works: use the config below."
    )


def send_new_link(account: ClientAccount) -> bool:
    """After a regenerated link: a short note, then the config and QR as on delivery."""
    from botapp.notify import send_account

    user = account.user
    if not user.telegram_id or user.has_blocked_bot:
        return False
    with translation.override(user.language):
        if tg.send_message(user.telegram_id, new_link_text()) is None:
            return False
    send_account(account)
    return True
