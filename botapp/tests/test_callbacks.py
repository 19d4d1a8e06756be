"""The callback-data codec: every button fits Telegram's 64 bytes and parses back."""

import pytest

from botapp import callbacks, handlers
from botapp.callbacks import ACTIONS, InvalidCallback, decode, encode

BIGGEST = {int: 2**63 - 1, str: "a" * 16}


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_action_fits_in_64_bytes_with_the_largest_ids(action):
    _, types = ACTIONS[action]
    data = encode(action, *(BIGGEST[kind] for kind in types))
    assert len(data.encode()) <= callbacks.MAX_BYTES
    assert decode(data) == callbacks.Callback(action, tuple(BIGGEST[kind] for kind in types))


def test_every_action_has_a_handler():
    assert set(handlers.ROUTES) == set(ACTIONS)


@pytest.mark.parametrize(
    "data",
    ["", "zz", "pw", "pw:", "pw:1:2", "pw:01", "pw:-1", "pw:1.5", "pw:١", "gs:EN", "gs:a:b",
     "rr:1:bad reason", "p:" + "9" * 20, "m:1", None, "x" * 65],
)  # fmt: skip
def test_malformed_data_is_invalid(data):
    with pytest.raises(InvalidCallback):
        decode(data)


@pytest.mark.parametrize(
    ("action", "args"),
    [("pw", (1,)), ("pay_wallet", ()), ("pay_wallet", (-1,)), ("pay_wallet", (True,)),
     ("set_language", ("a:b",)), ("pay_wallet", ("1",))],
)  # fmt: skip
def test_encoding_refuses_what_it_could_not_parse_back(action, args):
    with pytest.raises(ValueError):
        encode(action, *args)
