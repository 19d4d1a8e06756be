"""Drift between a panel and the database, and the fixes, each through the lifecycle.

:func:`panel_drift` reads the panel once and compares it with the accounts MoonVPN
holds for it:

* ``orphans``: clients on the panel with no account -- adopt one onto a customer
  (:func:`drift_adopt`) or delete it (:func:`drift_delete_orphan`);
* ``missing``: accounts whose client is gone -- re-create it with the same keys
  (:func:`drift_recreate`);
* ``differs``: accounts whose expiry, traffic limit, enabled flag or limitIp differ --
  push ours (:func:`drift_push`) or accept the panel's (:func:`drift_accept`).

Every fix on an account writes an AccountEvent (``drift``) with what changed and who.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from panels.lifecycle import (
    LifecycleError,
    OnPanel,
    panel_call,
    read_on_panel,
    record_event,
    replace_on_panel,
    state_of,
)
from panels.links import account_links
from panels.models import AccountEvent, ClientAccount, Inbound, Panel
from panels.xui.records import datetime_to_ms, ms_to_datetime

FIELDS = ("expiryTime", "totalGB", "enable", "limitIp")


@dataclass
class Orphan:
    email: str
    inbound_remote_id: int
    client: dict[str, Any]


@dataclass
class Difference:
    account: ClientAccount
    fields: dict[str, tuple[Any, Any]]  # name -> (ours, the panel's)


@dataclass
class Drift:
    panel: Panel
    orphans: list[Orphan] = field(default_factory=list)
    missing: list[ClientAccount] = field(default_factory=list)
    differs: list[Difference] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.orphans or self.missing or self.differs)

    def as_dict(self) -> dict[str, Any]:
        return {
            "panel": self.panel.pk,
            "orphans": [
                {
                    "email": o.email,
                    "inbound": o.inbound_remote_id,
                    "expiryTime": o.client.get("expiryTime", 0),
                    "totalGB": o.client.get("totalGB", 0),
                    "enable": o.client.get("enable", True),
                }
                for o in self.orphans
            ],
            "missing": [{"account": a.pk, "email": a.email} for a in self.missing],
            "differs": [
                {
                    "account": d.account.pk,
                    "email": d.account.email,
                    "fields": {k: {"ours": v[0], "panel": v[1]} for k, v in d.fields.items()},
                }
                for d in self.differs
            ],
        }


def ours(account: ClientAccount) -> dict[str, Any]:
    """What the database says the client should be, in the panel's keys."""
    return {
        "expiryTime": datetime_to_ms(account.expires_at),
        "totalGB": account.traffic_limit_bytes,
        "enable": bool(account.panel_enabled),
        "limitIp": account.plan.max_devices,
    }


def _theirs(client: dict[str, Any]) -> dict[str, Any]:
    return {
        "expiryTime": int(client.get("expiryTime") or 0),
        "totalGB": int(client.get("totalGB") or 0),
        "enable": bool(client.get("enable", True)),
        "limitIp": int(client.get("limitIp") or 0),
    }


def _accounts(panel: Panel):
    return (
        ClientAccount.objects.filter(panel=panel)
        .exclude(status=ClientAccount.Status.DELETED)
        .select_related("plan", "inbound", "panel", "user")
    )


def panel_drift(*, panel: Panel) -> Drift:
    """Compare the panel with the database (one listing of the panel)."""
    from panels.sync import as_dict  # the listing's settings may be JSON text

    raw = panel_call_for_panel(panel, lambda xui: xui.list_inbounds())
    on_panel: dict[str, tuple[int, dict]] = {}
    for inbound in raw:
        for client in as_dict(inbound.get("settings")).get("clients") or []:
            if isinstance(client, dict) and client.get("email"):
                on_panel[str(client["email"]).lower()] = (int(inbound.get("id") or 0), client)
    drift = Drift(panel=panel)
    known = set()
    for account in _accounts(panel):
        known.add(account.email)
        found = on_panel.get(account.email)
        if found is None:
            drift.missing.append(account)
            continue
        mine, theirs = ours(account), _theirs(found[1])
        fields = {k: (mine[k], theirs[k]) for k in FIELDS if mine[k] != theirs[k]}
        if fields:
            drift.differs.append(Difference(account, fields))
    for email, (inbound_id, client) in sorted(on_panel.items()):
        if email not in known:
            drift.orphans.append(Orphan(email, inbound_id, client))
    return drift


def panel_call_for_panel(panel: Panel, work):
    """panel_call for a panel rather than an account (the same health bookkeeping)."""
    probe = ClientAccount(panel=panel)
    return panel_call(probe, work)


# --- fixes on accounts ------------------------------------------------------------------


def drift_push(*, account: ClientAccount, actor) -> ClientAccount:
    """Write our expiry, limit, enabled flag and limitIp onto the panel's client."""
    wanted = ours(account)

    def work(xui):
        on_panel = read_on_panel(xui, account, with_usage=False)
        before = _theirs(on_panel.client)
        replace_on_panel(xui, account, on_panel, wanted)
        return before

    before = panel_call(account, work)
    changed = {k: [before[k], wanted[k]] for k in FIELDS if before[k] != wanted[k]}
    record_event(
        account, AccountEvent.Action.DRIFT, actor=actor, note=_("pushed ours"), panel=changed
    )
    return account


def drift_accept(*, account: ClientAccount, actor) -> ClientAccount:
    """Take the panel's expiry, limit and enabled flag into the database."""

    def work(xui) -> OnPanel:
        return read_on_panel(xui, account)

    on_panel = panel_call(account, work)
    theirs = _theirs(on_panel.client)
    mine = ours(account)
    state = state_of(on_panel.client, None)
    with transaction.atomic():
        ClientAccount.objects.filter(pk=account.pk).update(
            expires_at=ms_to_datetime(theirs["expiryTime"]),
            traffic_limit_bytes=theirs["totalGB"],
            panel_enabled=state.enable,
        )
        changed = {k: [mine[k], theirs[k]] for k in FIELDS if mine[k] != theirs[k]}
        record_event(
            account, AccountEvent.Action.DRIFT, actor=actor, note=_("accepted the panel's"),
            database=changed,
        )  # fmt: skip
    account.refresh_from_db()
    return account


def _client_for(account: ClientAccount) -> dict[str, Any]:
    inbound = account.inbound
    client: dict[str, Any] = {
        "email": account.email,
        "subId": account.sub_id,
        "tgId": account.user.telegram_id or 0,
        "comment": f"MoonVPN account {account.pk}",
        "reset": 0,
        **ours(account),
    }
    if inbound.protocol in ("trojan", "shadowsocks"):
        client["password"] = account.uuid
    else:
        client["id"] = account.uuid
    if inbound.protocol == "vmess":
        client["security"] = "auto"
    if inbound.protocol == "shadowsocks":
        method = str((inbound.settings or {}).get("method") or "")
        client["method"] = "" if method.startswith("2022-") else method
    if inbound.protocol == "vless":
        stream = inbound.stream_settings or {}
        vision = stream.get("network") == "tcp" and stream.get("security") in ("tls", "reality")
        client["flow"] = "xtls-rprx-vision" if vision else ""
    return client


def drift_recreate(*, account: ClientAccount, actor) -> ClientAccount:
    """Put the missing client back with the same keys (the customer's link works again)."""
    if account.status == ClientAccount.Status.DELETED:
        raise LifecycleError(_("The account is deleted."))
    client = _client_for(account)

    def work(xui):
        if xui.find_client(account.email) is None:
            xui.add_client(account.inbound.remote_id, account.inbound.protocol, client)

    panel_call(account, work)
    record_event(account, AccountEvent.Action.DRIFT, actor=actor, note=_("re-created on the panel"))
    return account


# --- fixes on clients without an account ------------------------------------------------


def _orphan(panel: Panel, email: str) -> tuple[int, dict]:
    found = panel_call_for_panel(panel, lambda xui: xui.find_client(email))
    if found is None:
        raise LifecycleError(_("The client is no longer on its panel."))
    if ClientAccount.objects.filter(panel=panel, email=email.lower()).exists():
        raise LifecycleError(_("This client already has an account."))
    return found


def drift_delete_orphan(*, panel: Panel, email: str, actor) -> None:
    """Delete a client no account stands for from the panel."""
    inbound_id, client = _orphan(panel, email)
    inbound = Inbound.objects.filter(panel=panel, remote_id=inbound_id).first()
    protocol = inbound.protocol if inbound else "vless"
    panel_call_for_panel(panel, lambda xui: xui.delete_client(inbound_id, protocol, client))


def drift_adopt(*, panel: Panel, email: str, user, plan, actor) -> ClientAccount:
    """Make an account of a client no account stands for, for ``user`` on ``plan``."""
    inbound_id, client = _orphan(panel, email)
    inbound = Inbound.objects.filter(panel=panel, remote_id=inbound_id).first()
    if inbound is None:
        raise LifecycleError(_("Its inbound is not synced yet; sync the panel first."))
    secret = str(client.get("password") or client.get("id") or "")
    config, sub = account_links(panel=panel, inbound=inbound, client=client)
    theirs = _theirs(client)
    with transaction.atomic():
        account = ClientAccount.objects.create(
            user=user,
            plan=plan,
            panel=panel,
            inbound=inbound,
            uuid=secret,
            email=email,
            sub_id=str(client.get("subId") or ""),
            config_url=config,
            subscription_url=sub,
            traffic_limit_bytes=theirs["totalGB"],
            expires_at=ms_to_datetime(theirs["expiryTime"]),
            panel_enabled=theirs["enable"],
            status=ClientAccount.Status.ACTIVE
            if theirs["enable"]
            else ClientAccount.Status.DISABLED,
        )
        record_event(account, AccountEvent.Action.DRIFT, actor=actor, note=_("adopted"))
    return account


def drift_fix_all(*, panel: Panel, kind: str, actor) -> int:
    """One fix for every row of a kind: ``push``, ``accept`` (differs), ``recreate``."""
    drift = panel_drift(panel=panel)
    done = 0
    if kind in ("push", "accept"):
        fix = drift_push if kind == "push" else drift_accept
        for difference in drift.differs:
            fix(account=difference.account, actor=actor)
            done += 1
    elif kind == "recreate":
        for account in drift.missing:
            drift_recreate(account=account, actor=actor)
            done += 1
    else:
        raise ValueError(kind)
    return done
