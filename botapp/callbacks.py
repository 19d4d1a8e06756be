"""The one codec for inline-button callback data.

Every step of a conversation that is not in the database is in the button pressed, so
the format is the bot's whole in-flight state: ``<code>[:<arg>...]``, with short codes
because Telegram refuses callback data over 64 bytes. Anything that does not parse
exactly (an old bot version's button, a forged one) is refused as invalid; handlers
still check that an id they receive belongs to the customer who pressed.
"""

import re
from dataclasses import dataclass

MAX_BYTES = 64  # Telegram's limit for callback_data
_TOKEN = re.compile(r"^[a-z0-9_]{1,16}$")
_INT = re.compile(r"^(0|[1-9][0-9]{0,18})$")

# action name → (code on the wire, argument types)
ACTIONS: dict[str, tuple[str, tuple[type, ...]]] = {
    "menu": ("m", ()),
    "buy": ("b", ()),
    "plan": ("p", (int,)),  # plan → its locations
    "location": ("l", (int, int)),  # plan, panel → its protocols
    "protocol": ("i", (int, int)),  # plan, inbound → the summary (creates the order)
    "pay_wallet": ("pw", (int,)),  # order
    "pay_receipt": ("pr", (int,)),  # order
    "cancel": ("x", (int,)),  # order
    "services": ("s", ()),
    "account": ("a", (int,)),  # client account
    "resend": ("ar", (int,)),  # client account
    "sub_new": ("sn", ()),  # a new token for the customer's one subscription URL
    "renew": ("rn", (int,)),  # client account → renewal plans (also on reminders)
    "renew_plan": ("rp", (int, int)),  # client account, plan → the renewal's summary
    "addons": ("ad", (int,)),  # client account → extra traffic / days
    "addon": ("ao", (int, int)),  # client account, add-on → the add-on's summary
    "wallet": ("w", ()),
    "topup": ("t", ()),
    "topup_amount": ("ta", (int,)),  # Toman
    "topup_type": ("tt", ()),
    "help": ("h", ()),
    "trial": ("fr", ()),  # the free trial
    "discount": ("dc", (int,)),  # order → type a discount code
    "order": ("o", (int,)),  # order → its summary again
    "invite": ("rf", ()),  # invite link, invited count, rewards
    "joined": ("cj", (str,)),  # "I joined" the required channel; what to go on with
    "language": ("g", ()),
    "set_language": ("gs", (str,)),  # "fa" / "en"
    # operators, on a receipt notification
    "approve": ("ra", (int,)),  # receipt
    "reject": ("rj", (int,)),  # receipt → the preset reasons
    "reject_reason": ("rr", (int, str)),  # receipt, reason code
    "review": ("rv", (int,)),  # receipt → back to approve / reject
}
_BY_CODE = {code: (name, types) for name, (code, types) in ACTIONS.items()}
assert len(_BY_CODE) == len(ACTIONS), "two actions share a code"


class InvalidCallback(ValueError):
    """Callback data this bot did not make (or no longer understands)."""


@dataclass(frozen=True)
class Callback:
    action: str
    args: tuple = ()


def encode(action: str, *args) -> str:
    try:
        code, types = ACTIONS[action]
    except KeyError:
        raise ValueError(f"unknown callback action {action!r}") from None
    if len(args) != len(types):
        raise ValueError(f"{action} takes {len(types)} arguments, got {len(args)}")
    parts = [code]
    for value, kind in zip(args, types, strict=True):
        if kind is int:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{action}: {value!r} is not a non-negative int")
            text = str(value)
            if not _INT.match(text):
                raise ValueError(f"{action}: {value!r} is too large")
        else:
            text = str(value)
            if not _TOKEN.match(text):
                raise ValueError(f"{action}: {value!r} is not a short token")
        parts.append(text)
    data = ":".join(parts)
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
    return data


def decode(data: str | None) -> Callback:
    if not data or len(data.encode()) > MAX_BYTES:
        raise InvalidCallback(data)
    code, *raw = data.split(":")
    try:
        action, types = _BY_CODE[code]
    except KeyError:
        raise InvalidCallback(data) from None
    if len(raw) != len(types):
        raise InvalidCallback(data)
    args = []
    for text, kind in zip(raw, types, strict=True):
        if kind is int:
            if not _INT.match(text):
                raise InvalidCallback(data)
            args.append(int(text))
        else:
            if not _TOKEN.match(text):
                raise InvalidCallback(data)
            args.append(text)
    return Callback(action, tuple(args))
