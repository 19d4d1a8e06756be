"""The customer's one subscription, served by MoonVPN: every active service on every panel.

``SITE_URL/sub/<token>/`` (panels.subscription_views) answers the delivered links of the
customer's active accounts -- the links stored at delivery by our builder
(panels.links), so the subscription and the delivery message always agree -- as

* the base64 list that v2rayN, v2rayNG, Hiddify and Streisand import (default),
* ``?format=singbox``: a sing-box client configuration (JSON),
* ``?format=clash``: a Clash Meta (mihomo) configuration (YAML),

with ``subscription-userinfo`` (usage and limits summed over the services, the earliest
expiry), ``profile-update-interval`` and ``profile-title``. Usage is what the last
sync stored: a request reads two rows sets and never calls a panel.

The token (``User.subscription_token``) is made on first use with
``secrets.token_urlsafe``; :func:`subscription_regenerate` replaces it, after which the
old URL answers 404 like any unknown one.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from panels.links import clients
from panels.models import ClientAccount

TOKEN_BYTES = 24  # 32 url-safe characters: 192 bits, never guessed
FORMATS = ("base64", "singbox", "clash")


# --- the token (services) ---------------------------------------------------------------


def _new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def subscription_token(*, user) -> str:
    """The customer's token, made (once, even when two callers race) on first use."""
    if user.subscription_token:
        return user.subscription_token
    User = get_user_model()
    for _attempt in range(3):
        try:
            with transaction.atomic():
                User.objects.filter(pk=user.pk, subscription_token__isnull=True).update(
                    subscription_token=_new_token()
                )
        except IntegrityError:  # the same token made twice: 2**-192, but be exact
            continue
        break
    user.subscription_token = (
        User.objects.filter(pk=user.pk).values_list("subscription_token", flat=True).get()
    )
    return user.subscription_token


def subscription_regenerate(*, user) -> str:
    """A new token for ``user``: the old subscription URL stops answering at once."""
    User = get_user_model()
    for _attempt in range(3):
        token = _new_token()
        try:
            with transaction.atomic():
                User.objects.filter(pk=user.pk).update(subscription_token=token)
        except IntegrityError:
            continue
        user.subscription_token = token
        return token
    raise RuntimeError("could not make a unique subscription token")


def subscription_url_for_token(token: str) -> str:
    """``SITE_URL/sub/<token>/``; "" while SITE_URL is not set (nothing to show)."""
    base = getattr(settings, "SITE_URL", "")
    if not base or not token:
        return ""
    return f"{base}/sub/{token}/"


def subscription_url(*, user) -> str:
    """The customer's subscription URL ("" while SITE_URL is not set)."""
    if not getattr(settings, "SITE_URL", ""):
        return ""
    return subscription_url_for_token(subscription_token(user=user))


# --- what a request reads (selector) -----------------------------------------------------


@dataclass
class Subscription:
    title: str
    links: list[str] = field(default_factory=list)
    upload: int = 0
    download: int = 0
    total: int = 0  # 0: unlimited (one unlimited service makes the sum unlimited)
    expire: datetime | None = None

    def userinfo(self) -> str:
        expire = int(self.expire.timestamp()) if self.expire else 0
        return (
            f"upload={self.upload}; download={self.download}; total={self.total}; expire={expire}"
        )


def subscription_for_token(token: str) -> Subscription | None:
    """The subscription behind ``token``, or None (unknown, revoked, inactive user).

    Two queries: the user by token, then the active accounts' delivered links and usage.
    """
    if not token or len(token) > 64:
        return None
    User = get_user_model()
    user_id = (
        User.objects.filter(subscription_token=token, is_active=True)
        .values_list("pk", flat=True)
        .first()
    )
    if user_id is None:
        return None
    rows = (
        ClientAccount.objects.filter(user_id=user_id, status=ClientAccount.Status.ACTIVE)
        .exclude(config_url="")
        .order_by("created_at", "id")
        .values_list("config_url", "used_bytes", "traffic_limit_bytes", "expires_at")
    )
    sub = Subscription(title=settings.SUBSCRIPTION_TITLE)
    unlimited = False
    for config_url, used, limit, expires in rows:
        sub.links.extend(line.strip() for line in config_url.splitlines() if line.strip())
        sub.download += used or 0
        if limit:
            sub.total += limit
        else:
            unlimited = True
        if expires is not None and (sub.expire is None or expires < sub.expire):
            sub.expire = expires
    if unlimited:
        sub.total = 0
    return sub


# --- the formats -----------------------------------------------------------------------


def _names(links: list[clients.Link]) -> list[str]:
    """A unique, readable name per service (the link's remark, numbered on repeats)."""
    seen: dict[str, int] = {}
    out = []
    for number, link in enumerate(links, 1):
        name = link.remark or f"{link.scheme}-{number}"
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def _parsed(sub: Subscription) -> list[clients.Link]:
    parsed = []
    for text in sub.links:
        try:
            parsed.append(clients.parse(text))
        except (ValueError, KeyError, TypeError):
            continue  # a link we did not build: only the base64 list carries it
    return parsed


def render_base64(sub: Subscription) -> str:
    return base64.b64encode("\n".join(sub.links).encode()).decode()


def render_singbox(sub: Subscription) -> str:
    links = _parsed(sub)
    outbounds = []
    for link, name in zip(links, _names(links), strict=True):
        try:
            outbounds.append(clients.singbox_outbound(link, tag=name))
        except clients.NotExpressible:
            continue
    tags = [o["tag"] for o in outbounds]
    selector = {"type": "selector", "tag": sub.title, "outbounds": tags or ["direct"]}
    if tags:
        selector["default"] = tags[0]
    config = {
        "log": {"level": "warn"},
        "inbounds": [
            {"type": "mixed", "tag": "mixed-in", "listen": "127.0.0.1", "listen_port": 2080}
        ],
        "outbounds": [selector, *outbounds, {"type": "direct", "tag": "direct"}],
        "route": {"final": sub.title},
    }
    return json.dumps(config, ensure_ascii=False, indent=2)


def render_clash(sub: Subscription) -> str:
    links = _parsed(sub)
    proxies = []
    for link, name in zip(links, _names(links), strict=True):
        try:
            proxies.append(clients.clash_proxy(link, name=name))
        except clients.NotExpressible:
            continue
    names = [p["name"] for p in proxies]
    config = {
        "mixed-port": 7890,
        "mode": "rule",
        "log-level": "warning",
        "proxies": proxies,
        "proxy-groups": [{"name": sub.title, "type": "select", "proxies": names or ["DIRECT"]}],
        "rules": [f"MATCH,{sub.title}"],
    }
    return clients.yaml_dump(config) + "\n"


def render(sub: Subscription, fmt: str) -> tuple[str, str]:
    """(body, content type) of ``sub`` in ``fmt`` (one of FORMATS)."""
    if fmt == "singbox":
        return render_singbox(sub), "application/json; charset=utf-8"
    if fmt == "clash":
        return render_clash(sub), "text/yaml; charset=utf-8"
    return render_base64(sub), "text/plain; charset=utf-8"


def headers(sub: Subscription) -> dict[str, str]:
    title = base64.b64encode(sub.title.encode()).decode()
    return {
        "subscription-userinfo": sub.userinfo(),
        "profile-update-interval": str(settings.SUBSCRIPTION_UPDATE_HOURS),
        "profile-title": f"base64:{title}",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
