"""An inbound's clients as the panel has them now (the console's page and the API)."""

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext

from panels.health import panel_record_failure
from panels.models import ClientAccount, Inbound
from panels.sessions import panel_client
from panels.sync import as_dict
from panels.xui import (
    ClientRecord,
    ClientTraffic,
    PanelAuthError,
    PanelError,
    PanelRejected,
    PanelUnavailable,
    as_int,
)


@dataclass
class LiveClient:
    email: str
    used_bytes: int
    total_bytes: int  # 0: unlimited
    expires_at: datetime | None
    starts_on_first_use: bool
    enabled: bool
    online: bool | None  # None: not known (the panel was not reached)
    account: ClientAccount | None  # ours, when the client is a customer's account


@dataclass
class LiveClients:
    clients: list[LiveClient]
    live: bool  # False: the panel could not be read; the rows are the last sync's
    error: str = ""


def inbound_live_clients(*, inbound: Inbound) -> LiveClients:
    """The inbound's clients as the panel has them now.

    When the panel cannot be read, the accounts as the last sync stored them, and why.
    (The console's page and the API both show this.)
    """
    accounts = {
        account.email.lower(): account
        for account in ClientAccount.objects.filter(inbound=inbound).select_related("user")
    }
    xui = panel_client(inbound.panel)
    try:
        raw = next(
            (item for item in xui.list_inbounds() if as_int(item.get("id")) == inbound.remote_id),
            None,
        )
        online = {str(email).lower() for email in xui.online_clients()}
    except PanelError as exc:
        panel_record_failure(inbound.panel, exc)
        return _stored_clients(accounts, panel_error_words(exc))
    if raw is None:
        return _stored_clients(accounts, gettext("This inbound no longer exists on the panel."))
    stats = {
        traffic.email.lower(): traffic
        for traffic in map(ClientTraffic.from_panel, raw.get("clientStats") or [])
        if traffic is not None
    }
    rows = []
    for item in as_dict(raw.get("settings")).get("clients") or []:
        if not isinstance(item, dict):
            continue
        client = ClientRecord.from_panel(item)
        traffic = stats.get(client.email.lower())
        rows.append(
            LiveClient(
                email=client.email,
                used_bytes=traffic.used if traffic else 0,
                total_bytes=client.total or (traffic.total if traffic else 0),
                expires_at=client.expires_at,
                starts_on_first_use=client.starts_on_first_use,
                enabled=client.enable and (traffic.enable if traffic else True),
                online=client.email.lower() in online,
                account=accounts.get(client.email.lower()),
            )
        )
    return LiveClients(clients=rows, live=True)


def panel_error_words(exc: PanelError) -> str:
    """Why the panel did not answer, in a sentence for an operator (no exception reprs)."""
    if isinstance(exc, PanelAuthError):
        return gettext("the panel refused our login (check the panel's username and password)")
    if isinstance(exc, PanelRejected):
        return gettext("the panel refused the request: %(message)s") % {
            "message": exc.panel_message or "—"
        }
    if isinstance(exc, PanelUnavailable):
        return gettext("the panel could not be reached (connection refused, timed out or an error)")
    return gettext("the panel gave an answer we could not read")


def _stored_clients(accounts: dict, error: str) -> LiveClients:
    rows = [
        LiveClient(
            email=account.email,
            used_bytes=account.used_bytes,
            total_bytes=account.traffic_limit_bytes,
            expires_at=account.expires_at,
            starts_on_first_use=False,
            enabled=account.panel_enabled,
            online=None,
            account=account,
        )
        for account in accounts.values()
    ]
    return LiveClients(clients=rows, live=False, error=error)
