"""3x-ui numbers and times parsed once (panels.xui.records)."""

from datetime import UTC, datetime

from panels.xui import ClientRecord, ClientTraffic, datetime_to_ms, ms_to_datetime


def test_times_in_milliseconds():
    assert ms_to_datetime(1_700_000_000_000) == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert ms_to_datetime("1700000000000") == ms_to_datetime(1_700_000_000_000)
    # 0: never; negative: "starts on first use"; junk: no date.
    assert ms_to_datetime(0) is None
    assert ms_to_datetime(-86_400_000) is None
    assert ms_to_datetime(None) is None
    assert ms_to_datetime("soon") is None
    assert datetime_to_ms(ms_to_datetime(1_700_000_000_000)) == 1_700_000_000_000
    assert datetime_to_ms(None) == 0


def test_a_traffic_row_as_older_panels_send_it():
    row = {"email": "a@b", "up": "10", "down": None, "total": 5, "expiryTime": 0, "enable": False}
    traffic = ClientTraffic.from_panel(row)
    assert (traffic.used, traffic.total, traffic.expires_at, traffic.enable) == (10, 5, None, False)
    assert ClientTraffic.from_panel(None) is None


def test_a_client_starting_on_first_use():
    client = ClientRecord.from_panel({"email": "x", "totalGB": 7, "expiryTime": -86_400_000})
    assert client.starts_on_first_use and client.expires_at is None and client.enable
    assert client.total == 7
