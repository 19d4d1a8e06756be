"""Customers as they arrive from Telegram."""

import secrets

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from moonvpn.queries import PreparedLookup

User = get_user_model()


def language_from_telegram(language_code: str | None) -> str:
    """Telegram's language_code → our language: Persian for "fa", English otherwise."""
    code = (language_code or "").lower()
    return User.Language.PERSIAN if code.startswith("fa") else User.Language.ENGLISH


def customer_register(
    *,
    telegram_id: int,
    first_name: str = "",
    last_name: str = "",
    username: str = "",
    language_code: str | None = None,
    lookup: PreparedLookup | None = None,
) -> tuple["User", bool]:
    """Find or create the customer of a Telegram user and refresh their profile.

    Returns (user, created). Called on every update, so an unchanged profile costs one
    query; the language is only chosen at creation (afterwards the customer picks it).
    A customer who writes to us again has evidently unblocked the bot. ``lookup``
    finds the user by Telegram id with whatever else the caller needs in that same
    query (an annotation); it is prepared once (moonvpn.queries.PreparedLookup).
    """
    profile = {
        "first_name": (first_name or "")[:150],
        "last_name": (last_name or "")[:150],
        "telegram_username": (username or "")[:64],
    }
    user = (lookup or _BY_TELEGRAM_ID).first(telegram_id)
    if user is None:
        user = _customer_create(telegram_id, profile, language_from_telegram(language_code))
        if user is not None:
            return user, True
        # Two first updates of the same person raced; the other one created the row.
        user = User.objects.get(telegram_id=telegram_id)
    changed = {name: value for name, value in profile.items() if getattr(user, name) != value}
    if user.has_blocked_bot:
        changed["has_blocked_bot"] = False
    if changed:
        User.objects.filter(pk=user.pk).update(**changed)
        for name, value in changed.items():
            setattr(user, name, value)
    return user, False


_BY_TELEGRAM_ID = PreparedLookup(lambda telegram_id: User.objects.filter(telegram_id=telegram_id))


def _customer_create(telegram_id: int, profile: dict, language: str):
    for username in (f"tg_{telegram_id}", f"tg_{telegram_id}_{secrets.token_hex(3)}"):
        try:
            with transaction.atomic():
                user = User(username=username, telegram_id=telegram_id, language=language)
                for name, value in profile.items():
                    setattr(user, name, value)
                # Customers never log in to the admin.
                user.set_unusable_password()
                user.save()
                return user
        except IntegrityError:
            if User.objects.filter(telegram_id=telegram_id).exists():
                return None
            # The username was taken by a staff account: try the suffixed one.
    raise IntegrityError(f"could not register Telegram user {telegram_id}")


def customer_set_language(*, user, language: str) -> None:
    if language not in User.Language.values:
        raise ValueError(f"unknown language {language!r}")
    User.objects.filter(pk=user.pk).update(language=language)
    user.language = language


# --- invite links ------------------------------------------------------------------------

_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def referral_code(user) -> str:
    """The customer's invite code (``/start ref-<code>``): their id in base 36."""
    n, digits = user.pk, ""
    while True:
        n, r = divmod(n, 36)
        digits = _BASE36[r] + digits
        if n == 0:
            return digits


def referral_bind(*, user, code: str) -> bool:
    """Bind a customer who just arrived to the inviter whose code they came with.

    Only a customer with no inviter yet, never to themselves; the compare-and-set
    (``referred_by`` still empty) means a customer is never rebound. True when bound.
    """
    code = (code or "").strip().lower()
    if not code or len(code) > 12 or any(ch not in _BASE36 for ch in code):
        return False
    inviter_id = int(code, 36)
    if inviter_id == user.pk or not User.objects.filter(pk=inviter_id, is_active=True).exists():
        return False
    bound = User.objects.filter(pk=user.pk, referred_by__isnull=True).update(
        referred_by_id=inviter_id
    )
    if bound:
        user.referred_by_id = inviter_id
    return bool(bound)


class NotAllowed(Exception):
    """The operator may not do this to that user; the message says why."""


def user_set_blocked(*, user, blocked: bool, actor) -> None:
    """Block (or unblock) a customer: a blocked customer can no longer buy or use the bot.

    Staff accounts are a superuser's to manage, as in the console.
    """
    if user.is_staff and not actor.is_superuser:
        raise NotAllowed(_("Only a superuser can block or unblock a staff account."))
    User.objects.filter(pk=user.pk).update(is_blocked=blocked)
    user.is_blocked = blocked
