"""A panel call ends by its deadline, however slowly the panel drips its answer."""

import time

import pytest

from panels.xui import PanelConfig, PanelUnavailable, XuiClient
from standins.xui import FakeXuiPanel


@pytest.fixture
def fake():
    with FakeXuiPanel(profile="v2") as panel:
        panel.add_inbound("vless")
        yield panel


def _client(fake, **overrides):
    config = {
        "base_url": fake.url,
        "username": "admin",
        "password": "secret",
        "connect_timeout": 1.0,
        "read_timeout": 1.0,
        "deadline": 1.5,
    }
    config.update(overrides)
    return XuiClient(PanelConfig(**config))


def test_a_slow_drip_answer_is_cut_at_the_deadline(fake):
    client = _client(fake)
    client.login()
    # Every byte arrives 0.2 s after the last, well inside the 1 s read timeout; the
    # listing (hundreds of bytes) would take over a minute.
    fake.faults.drip = 0.2
    started = time.monotonic()
    with pytest.raises(PanelUnavailable) as error:
        client.list_inbounds()
    elapsed = time.monotonic() - started
    assert elapsed < 1.5 + 1.0 + 0.5  # the deadline, at most one read timeout more
    assert "deadline" in str(error.value)


def test_dripping_headers_are_cut_at_the_deadline_too(fake):
    client = _client(fake)
    client.login()
    # Not even the status line is complete before the deadline: a deadline that only
    # starts counting at the body would wait for the whole drip (over 20 s).
    fake.faults.drip_headers = 0.2
    started = time.monotonic()
    with pytest.raises(PanelUnavailable) as error:
        client.list_inbounds()
    elapsed = time.monotonic() - started
    assert elapsed < 1.5 + 0.5
    assert "deadline" in str(error.value)
    fake.clear_faults()
    assert len(client.list_inbounds()) == 1  # the cut connection was not reused


def test_a_prompt_answer_is_read_whole_and_the_session_goes_on(fake):
    client = _client(fake)
    assert [inbound["protocol"] for inbound in client.list_inbounds()] == ["vless"]
    fake.faults.drip = 0.2
    with pytest.raises(PanelUnavailable):
        client.list_inbounds()
    fake.clear_faults()
    assert len(client.list_inbounds()) == 1  # the cut connection was not reused
