"""Panel services: the one place that talks to 3x-ui for the rest of MoonVPN.

Handlers, admin actions, API views and commands call these; the HTTP details live in
panels.xui, link building in panels.links.
"""

import hashlib
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import connections, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from panels.links import inbound_link_problem
from panels.models import ClientAccount, Inbound, Panel, PanelHealthEvent
from panels.xui import (
    ClientRecord,
    ClientTraffic,
    PanelAuthError,
    PanelConfig,
    PanelError,
    PanelRejected,
    PanelUnavailable,
    XuiClient,
    as_int,
    error_summary,
    ms_to_datetime,
)

log = logging.getLogger(__name__)

# --- one session per panel -------------------------------------------------------

_clients: dict[int, tuple[str, XuiClient]] = {}
_clients_lock = threading.Lock()


def _fingerprint(panel: Panel) -> str:
    # Editing the URL or credentials in the admin must drop the old session.
    raw = "\0".join(
        [panel.base_url, panel.username, panel.password, panel.api_token, str(panel.verify_tls)]
    )
    return hashlib.sha256(raw.encode()).hexdigest()


def panel_config(panel: Panel) -> PanelConfig:
    return PanelConfig(
        base_url=panel.base_url,
        username=panel.username or "",
        password=panel.password or "",
        api_token=panel.api_token or "",
        verify_tls=panel.verify_tls,
        api_generation=panel.api_generation,
        connect_timeout=settings.PANEL_CONNECT_TIMEOUT,
        read_timeout=settings.PANEL_READ_TIMEOUT,
        deadline=settings.PANEL_CALL_DEADLINE,
    )


def panel_client(panel: Panel) -> XuiClient:
    """The panel's client, reused across calls so its login session is reused too."""
    fingerprint = _fingerprint(panel)
    with _clients_lock:
        cached = _clients.get(panel.pk)
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
        client = XuiClient(panel_config(panel))
        if panel.pk is not None:
            _clients[panel.pk] = (fingerprint, client)
        return client


def panel_clients_reset() -> None:
    with _clients_lock:
        _clients.clear()


def panel_remember_generation(panel: Panel, client: XuiClient) -> None:
    # The client re-detects when a panel is upgraded; keep what it found.
    if client.api_generation and client.api_generation != panel.api_generation:
        panel.api_generation = client.api_generation
        Panel.objects.filter(pk=panel.pk).update(api_generation=client.api_generation)


# A healthy panel goes down (and its location off sale) only on evidence: this many
# failed calls in a row, or a failed probe (the operator's test, add_panel). One
# transient 502 in the middle of a sale is not evidence.
FAILURES_BEFORE_DOWN = 2


DOWN_STATES = (Panel.Health.DOWN, Panel.Health.AUTH_ERROR)


def _record_health_event(panel_id: int, kind: str, error: str, now) -> None:
    """One row per transition (called while the transition's UPDATE holds the panel row).

    A DOWN row says since when (now); an UP row carries when the panel went down.
    """
    last = PanelHealthEvent.objects.filter(panel_id=panel_id).order_by("-seq").first()
    since = now if kind == PanelHealthEvent.Kind.DOWN else (last.since if last else None)
    if kind == PanelHealthEvent.Kind.UP and (
        last is None or last.kind != PanelHealthEvent.Kind.DOWN
    ):
        return  # down before any alert existed (or never announced): nothing to say is back
    PanelHealthEvent.objects.create(
        panel_id=panel_id, seq=(last.seq + 1) if last else 1, kind=kind, error=error, since=since
    )


def panel_record_failure(panel: Panel, exc: Exception, *, probe: bool = False) -> None:
    bad = Panel.Health.AUTH_ERROR if isinstance(exc, PanelAuthError) else Panel.Health.DOWN
    now = timezone.now()
    # The summary: never what the remote server answered (readable over the API).
    error = error_summary(exc)
    with transaction.atomic():
        rows = Panel.objects.filter(pk=panel.pk)
        rows.update(
            consecutive_failures=F("consecutive_failures") + 1,
            last_error=error,
            last_checked_at=now,
        )
        failures, health = rows.values_list("consecutive_failures", "health").first() or (1, "")
        # A panel not known to work (unknown, or already down) has no health to keep.
        if probe or health != Panel.Health.OK or failures >= FAILURES_BEFORE_DOWN:
            rows.update(health=bad)
            if health == Panel.Health.OK:
                # The UPDATE above holds the panel row: one caller sees this transition.
                _record_health_event(panel.pk, PanelHealthEvent.Kind.DOWN, error, now)
            health = bad
    panel.health, panel.last_error, panel.last_checked_at = health, error, now
    panel.consecutive_failures = failures


def panel_record_success(panel: Panel) -> None:
    """The panel just served a call: it is up, whatever one earlier error said."""
    if panel.health == Panel.Health.OK and panel.consecutive_failures == 0:
        # As loaded for this call it was already up: the UPDATE below would match no
        # row but for a failure recorded meanwhile, which the next success clears.
        return
    _mark_up(panel, timezone.now())


def _mark_up(panel: Panel, now) -> None:
    with transaction.atomic():
        rows = Panel.objects.filter(pk=panel.pk)
        came_back = rows.filter(health__in=DOWN_STATES).update(health=Panel.Health.OK)
        changed = (
            rows.exclude(consecutive_failures=0, health=Panel.Health.OK, last_error="").update(
                health=Panel.Health.OK, consecutive_failures=0, last_error="", last_checked_at=now
            )
            or came_back
        )
        if came_back:
            _record_health_event(panel.pk, PanelHealthEvent.Kind.UP, "", now)
    if changed:
        panel.health, panel.consecutive_failures, panel.last_error = Panel.Health.OK, 0, ""


def panel_test_connection(*, panel: Panel) -> str:
    """Log in and detect the API generation; record the panel's health. Returns it."""
    client = panel_client(panel)
    try:
        generation = client.detect()
    except PanelError as exc:
        panel_record_failure(panel, exc, probe=True)
        raise
    now = timezone.now()
    _mark_up(panel, now)
    Panel.objects.filter(pk=panel.pk).update(
        health=Panel.Health.OK,
        consecutive_failures=0,
        last_error="",
        last_checked_at=now,
        api_generation=generation,
    )
    panel.health, panel.last_error, panel.api_generation = Panel.Health.OK, "", generation
    return generation


# --- sync -----------------------------------------------------------------------


@dataclass
class SyncResult:
    panel: Panel
    inbounds: int = 0
    created: int = 0
    gone: int = 0
    accounts_updated: int = 0
    accounts_missing: int = 0
    seconds: float = 0.0
    error: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.error


def _as_dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _inbound_fields(raw: dict) -> dict:
    stream = _as_dict(raw.get("streamSettings"))
    inbound_settings = _as_dict(raw.get("settings"))
    clients = inbound_settings.get("clients")
    return {
        "remark": str(raw.get("remark") or "")[:255],
        "protocol": str(raw.get("protocol") or "")[:32],
        "port": int(raw.get("port") or 0),
        "listen": str(raw.get("listen") or "")[:255],
        "network": str(stream.get("network") or "")[:32],
        "security": str(stream.get("security") or "")[:32],
        "settings": inbound_settings,
        # A malformed streamSettings is kept as the panel sent it, for the operator.
        "stream_settings": raw.get("streamSettings")
        if isinstance(raw.get("streamSettings"), dict)
        else {"unparsed": str(raw.get("streamSettings"))[:2000]},
        "status": Inbound.Status.ACTIVE if raw.get("enable", True) else Inbound.Status.DISABLED,
        "client_count": len(clients) if isinstance(clients, list) else 0,
        "link_problem": (inbound_link_problem(raw) or "")[:255],
    }


def _client_states(raw_inbounds: list[dict]) -> dict[str, dict]:
    """email (lower-case) → what the panel says about that client."""
    states: dict[str, dict] = {}
    for raw in raw_inbounds:
        for client in _as_dict(raw.get("settings")).get("clients") or []:
            if isinstance(client, dict) and client.get("email"):
                states[str(client["email"]).lower()] = {
                    "enable": bool(client.get("enable", True)),
                    "expiryTime": client.get("expiryTime", 0),
                    "total": client.get("totalGB", 0),
                    "used": 0,
                    "stats_enable": True,
                }
        for row in raw.get("clientStats") or []:
            if not isinstance(row, dict) or not row.get("email"):
                continue
            state = states.get(str(row["email"]).lower())
            if state is None:
                continue
            state["used"] = int(row.get("up") or 0) + int(row.get("down") or 0)
            # Older panels only switch off the stats row when time or traffic runs out.
            state["stats_enable"] = bool(row.get("enable", True))
            if row.get("expiryTime") is not None:
                state["expiryTime"] = row.get("expiryTime")
            if row.get("total") is not None:
                state["total"] = row.get("total")
    return states


def _account_status(state: dict, now: datetime) -> tuple[str, bool, datetime | None]:
    enabled = state["enable"] and state["stats_enable"]
    expires = ms_to_datetime(state["expiryTime"])
    total = int(state["total"] or 0)
    out_of_time = expires is not None and expires <= now
    out_of_traffic = total > 0 and state["used"] >= total
    if out_of_time or (not enabled and out_of_traffic):
        status = ClientAccount.Status.EXPIRED
    elif not enabled:
        status = ClientAccount.Status.DISABLED
    else:
        status = ClientAccount.Status.ACTIVE
    return status, enabled, expires


_SYNCED_ACCOUNT_FIELDS = (
    "status",
    "panel_enabled",
    "used_bytes",
    "expires_at",
    "traffic_limit_bytes",
)


def _write_account_states(accounts: list[ClientAccount]) -> None:
    """One prepared UPDATE run for every changed account.

    bulk_update's CASE WHEN grows quadratically with the rows (10,000 accounts took
    ~10 s on SQLite); a single executemany of a parameterised UPDATE stays linear.
    """
    if not accounts:
        return
    fields = [ClientAccount._meta.get_field(name) for name in _SYNCED_ACCOUNT_FIELDS]
    fields.append(ClientAccount._meta.get_field("last_synced_at"))
    connection = connections[ClientAccount.objects.db]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    sql = f"UPDATE {quote(ClientAccount._meta.db_table)} SET {assignments} WHERE id = %s"
    rows = [
        [field.get_db_prep_save(getattr(account, field.attname), connection) for field in fields]
        + [account.pk]
        for account in accounts
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


@dataclass
class PanelListing:
    """What one panel answered: fetched in a worker thread, written by the caller."""

    panel: Panel
    raw_inbounds: list[dict] | None
    listed_at: datetime
    api_generation: str = ""
    error: Exception | None = None
    seconds: float = 0.0


def panel_fetch(*, panel: Panel) -> PanelListing:
    """Only the network part of a sync: safe to run for many panels in threads."""
    started = time.monotonic()
    client = panel_client(panel)
    listed_at = timezone.now()
    try:
        raw = client.list_inbounds()
    except PanelError as exc:
        return PanelListing(panel, None, listed_at, error=exc, seconds=time.monotonic() - started)
    raw = [item for item in raw if isinstance(item, dict) and "id" in item]
    return PanelListing(
        panel, raw, listed_at, client.api_generation, seconds=time.monotonic() - started
    )


def panel_sync(*, panel: Panel) -> SyncResult:
    """Copy a panel's inbounds and its clients' usage into the database."""
    return panel_apply(listing=panel_fetch(panel=panel))


def panel_apply(*, listing: PanelListing) -> SyncResult:
    """Write a panel's listing to the database.

    A number of queries that does not grow with the clients: one read of the
    inbounds, one of the accounts, bulk writes.
    """
    started = time.monotonic()
    panel, listed_at = listing.panel, listing.listed_at
    result = SyncResult(panel=panel)
    if listing.error is not None:
        panel_record_failure(panel, listing.error)
        result.error = error_summary(listing.error)
        result.seconds = listing.seconds
        return result
    raw_inbounds = listing.raw_inbounds

    now = timezone.now()
    existing = {inbound.remote_id: inbound for inbound in panel.inbounds.all()}
    to_create, to_update, seen = [], [], set()
    for raw in raw_inbounds:
        remote_id = int(raw["id"])
        seen.add(remote_id)
        fields = _inbound_fields(raw)
        if fields["link_problem"]:
            result.problems.append(f"#{remote_id} {fields['remark']}: {fields['link_problem']}")
        inbound = existing.get(remote_id)
        if inbound is None:
            to_create.append(
                Inbound(panel=panel, remote_id=remote_id, last_synced_at=now, **fields)
            )
            continue
        if fields["link_problem"]:
            # Never sell what we cannot build a link for.
            fields["is_sellable"] = False
        if any(getattr(inbound, name) != value for name, value in fields.items()):
            for name, value in fields.items():
                setattr(inbound, name, value)
            inbound.last_synced_at = now
            to_update.append(inbound)
    for remote_id, inbound in existing.items():
        if remote_id not in seen and inbound.status != Inbound.Status.DELETED:
            # Never deleted: accounts point at it, and it may come back.
            inbound.status = Inbound.Status.INACTIVE
            to_update.append(inbound)
            result.gone += 1

    states = _client_states(raw_inbounds)
    accounts = list(
        ClientAccount.objects.filter(panel=panel)
        .exclude(status=ClientAccount.Status.DELETED)
        .only(*_SYNCED_ACCOUNT_FIELDS, "id", "email", "created_at")
    )
    changed_accounts = []
    for account in accounts:
        state = states.get(account.email.lower())
        if state is None:
            # Gone from the panel (deleted there by hand) — but only if it existed
            # before we listed; one created meanwhile is simply not in this listing.
            if account.created_at < listed_at:
                account.status = ClientAccount.Status.DELETED
                account.panel_enabled = False
                account.last_synced_at = now
                changed_accounts.append(account)
                result.accounts_missing += 1
            continue
        status, enabled, expires = _account_status(state, now)
        before = [getattr(account, name) for name in _SYNCED_ACCOUNT_FIELDS]
        account.status, account.panel_enabled = status, enabled
        account.used_bytes = state["used"]
        if expires is not None:
            account.expires_at = expires
        account.traffic_limit_bytes = int(state["total"] or 0)
        # Writing only what changed keeps a sync of a quiet panel to a few queries.
        if before != [getattr(account, name) for name in _SYNCED_ACCOUNT_FIELDS]:
            account.last_synced_at = now
            changed_accounts.append(account)
    result.accounts_updated = len(changed_accounts) - result.accounts_missing

    inbound_fields = [*_inbound_fields({}).keys(), "is_sellable", "last_synced_at"]
    with transaction.atomic():
        Inbound.objects.bulk_create(to_create, batch_size=500)
        Inbound.objects.bulk_update(to_update, inbound_fields, batch_size=500)
        # Every inbound the panel listed was seen now, changed or not.
        Inbound.objects.filter(panel=panel, remote_id__in=seen).update(last_synced_at=now)
        _write_account_states(changed_accounts)
        Panel.objects.filter(pk=panel.pk).update(
            health=Panel.Health.OK,
            consecutive_failures=0,
            last_error="",
            last_checked_at=now,
            last_synced_at=now,
            api_generation=listing.api_generation or panel.api_generation,
        )
    result.inbounds = len(raw_inbounds)
    result.created = len(to_create)
    result.seconds = listing.seconds + time.monotonic() - started
    return result


def panel_active_accounts(panel: Panel) -> int:
    return panel.client_accounts.filter(status=ClientAccount.Status.ACTIVE).count()


# --- an inbound's clients, live ---------------------------------------------------


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
    for item in _as_dict(raw.get("settings")).get("clients") or []:
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
