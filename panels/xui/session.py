"""One panel's HTTP session: sending, riding out a lost session or a stale CSRF token,
logging in (v2 cookie, v3 CSRF or Bearer API token) and detecting the API generation.

The quirks these work around are listed at the top of ``panels/xui/client.py``.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any, Self, TypeVar

import requests
import urllib3

from .config import CSRF_GENERATIONS, LEGACY, V2, V3, V3_CLIENTS, PanelConfig
from .deadline import Deadline, mount_deadline_adapter
from .errors import PanelAuthError, PanelError, PanelUnavailable
from .parsing import SNIPPET_BYTES

# The name the 3x-ui client always logged under (operators' log filters know it).
logger = logging.getLogger("panels.xui.client")

T = TypeVar("T")


# ---------------------------------------------------------------------- internal signals


class _Gone(Exception):
    """The answer means "not logged in" (or, after a fresh login, "no such route")."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(kind, detail)
        self.kind = kind  # unauthorized | not_found | redirect | html | expired
        self.detail = detail


class _Forbidden(Exception):
    pass


class _RouteGone(Exception):
    def __init__(self, route: str, generation: str) -> None:
        super().__init__(route)
        self.route = route
        self.generation = generation


def _snippet(content: bytes) -> str:
    return content[:SNIPPET_BYTES].decode("utf-8", "replace").strip()


def _looks_expired(msg: str) -> bool:
    low = msg.lower()
    return any(s in low for s in ("session has expired", "log in again", "login again"))


def _describe(exc: BaseException) -> str:
    # requests' messages embed the full URL, and with it the panel's secret
    # web base path; the underlying reason is what an operator needs.
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return f"{type(exc).__name__}: {reason or exc}"


class PanelSession:
    """The transport under ``XuiClient``: one ``requests.Session``, its lock and login."""

    def __init__(self, config: PanelConfig) -> None:
        self.config = config
        self.api_generation = config.api_generation
        self._session = requests.Session()
        mount_deadline_adapter(self._session)
        self._session.headers.update(
            {
                # Without it an expired session is a 307 to an HTML page.
                "X-Requested-With": "XMLHttpRequest",
                # The first half of every message is localized; keep it English.
                "Accept-Language": "en-US",
                "Accept": "application/json",
            }
        )
        self._lock = threading.RLock()
        self._csrf_token = ""
        self._logged_in = False
        self._auth_epoch = 0
        self._csrf_required = self.api_generation in CSRF_GENERATIONS
        self._use_bearer = bool(config.api_token) and self._csrf_required

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------------ public API

    def login(self) -> None:
        """Log in now (detecting the API generation first if it is unknown)."""
        with self._lock:
            if not self.api_generation:
                self._detect_unlocked()
            elif not self._use_bearer:
                self._login_unlocked()

    def detect(self) -> str:
        """Find out which API generation the panel speaks; also logs in."""
        with self._lock:
            return self._detect_unlocked()

    # ------------------------------------------------------------------ recovery

    def _run(self, op: Callable[[], T]) -> T:
        self._ensure_generation()
        try:
            return op()
        except _RouteGone as gone:
            with self._lock:
                if self.api_generation == gone.generation:
                    # Nobody re-detected meanwhile: the panel was probably upgraded.
                    new = self._detect_unlocked()
                    if new == gone.generation:
                        raise PanelUnavailable(
                            f"{gone.route}: HTTP 404 even after a fresh login; "
                            f"the panel does not serve the {new} API there"
                        ) from None
                    logger.warning(
                        "panel %s changed API generation from %s to %s",
                        self._where(),
                        gone.generation,
                        new,
                    )
        try:
            return op()
        except _RouteGone as gone:
            raise PanelUnavailable(
                f"{gone.route}: HTTP 404 after re-detecting the panel API"
            ) from None

    def _ensure_generation(self) -> None:
        if not self.api_generation:
            with self._lock:
                if not self.api_generation:
                    self._detect_unlocked()

    def _ensure_session(self) -> int:
        if not (self._use_bearer or self._logged_in):
            with self._lock:
                if not (self._use_bearer or self._logged_in):
                    self._login_unlocked()
        return self._auth_epoch

    def _relogin(self, seen_epoch: int) -> None:
        with self._lock:
            if self._auth_epoch != seen_epoch:
                return  # another thread already logged in again
            logger.info("panel %s: session gone, logging in again", self._where())
            self._login_unlocked()

    def _call(self, method: str, route: str, json_body: Any = None) -> dict[str, Any]:
        """Send one API request, riding out one lost session and one stale CSRF token."""
        generation = self.api_generation
        relogged = csrf_refreshed = False
        while True:
            epoch = self._ensure_session()
            resp = self._send(method, route, json_body=json_body)
            try:
                return self._classify(resp, route)
            except _Forbidden as exc:
                if self._use_bearer or csrf_refreshed:
                    raise PanelAuthError(
                        f"{method} {route}: HTTP 403 forbidden", remote=str(exc)
                    ) from None
                csrf_refreshed = True
                with self._lock:
                    if not self._fetch_csrf_unlocked():
                        raise PanelAuthError(
                            f"{method} {route}: HTTP 403 forbidden", remote=str(exc)
                        ) from None
            except _Gone as gone:
                if gone.kind == "html" and (relogged or self._use_bearer):
                    raise PanelUnavailable(
                        f"{method} {route}: answered HTML instead of JSON", remote=gone.detail
                    ) from None
                if gone.kind in ("not_found", "redirect") and (relogged or self._use_bearer):
                    raise _RouteGone(route, generation) from None
                if self._use_bearer:
                    raise PanelAuthError(f"{method} {route}: the API token was rejected") from None
                if relogged:
                    raise PanelAuthError(
                        f"{method} {route}: still logged out right after a successful login"
                    ) from None
                relogged = True
                self._relogin(epoch)

    def _classify(self, resp: requests.Response, route: str) -> dict[str, Any]:
        status = resp.status_code
        if 300 <= status < 400:
            raise _Gone("redirect", f"HTTP {status}")
        if status == 401:
            raise _Gone("unauthorized", "HTTP 401")
        if status == 403:
            raise _Forbidden(_snippet(resp.content))
        if status == 404:
            raise _Gone("not_found", "HTTP 404")
        if status >= 500:
            raise PanelUnavailable(
                f"{route}: HTTP {status}", remote=_snippet(resp.content) or "(empty body)"
            )
        if not 200 <= status < 300:
            raise PanelUnavailable(f"{route}: HTTP {status}", remote=_snippet(resp.content))
        body = self._decode(resp, route)
        if not body.get("success") and _looks_expired(str(body.get("msg") or "")):
            raise _Gone("expired", str(body.get("msg")))  # pre-v2.2.5: 200 + this text
        return body

    def _decode(self, resp: requests.Response, route: str) -> dict[str, Any]:
        content = resp.content
        if "html" in resp.headers.get("Content-Type", "") or content.lstrip()[:1] == b"<":
            raise _Gone("html", _snippet(content))
        try:
            body = json.loads(content)
        except ValueError:
            raise PanelUnavailable(
                f"{route}: answer is not JSON (truncated or garbage)",
                remote=repr(_snippet(content)),
            ) from None
        if not isinstance(body, dict) or "success" not in body:
            raise PanelUnavailable(f"{route}: unexpected answer", remote=repr(_snippet(content)))
        return body

    def _send(
        self, method: str, route: str, *, json_body: Any = None, form: Any = None, auth: bool = True
    ) -> requests.Response:
        headers = {}
        if auth and self._use_bearer:
            headers["Authorization"] = f"Bearer {self.config.api_token}"
        elif method != "GET" and self._csrf_token:
            headers["X-CSRF-Token"] = self._csrf_token
        what = f"{method} {route}"
        deadline = Deadline(self.config.deadline)
        try:
            with deadline:
                return self._session.request(
                    method,
                    self.config.base_url + route,
                    json=json_body,
                    data=form,
                    headers=headers,
                    timeout=(self.config.connect_timeout, self.config.read_timeout),
                    allow_redirects=False,
                    verify=self.config.verify_tls,
                )
        except requests.Timeout as exc:
            raise PanelUnavailable(
                f"{what}: timed out ({type(exc).__name__})", remote=_describe(exc)
            ) from exc
        except (
            requests.RequestException,
            urllib3.exceptions.HTTPError,
            OSError,
            ValueError,
        ) as exc:
            if deadline.expired:
                raise PanelUnavailable(
                    f"{what}: no complete answer within the {self.config.deadline:g}s deadline"
                ) from exc
            # The reason can quote bytes the server sent (a broken chunk length...).
            raise PanelUnavailable(f"{what}: {type(exc).__name__}", remote=_describe(exc)) from exc

    # ------------------------------------------------------------------ login & detection

    def _fetch_csrf_unlocked(self, *, required: bool = False) -> bool:
        resp = self._send("GET", "csrf-token", auth=False)
        token = None
        if resp.status_code == 200:
            try:
                body = json.loads(resp.content)
            except ValueError:
                body = None
            if isinstance(body, dict) and body.get("success"):
                token = body.get("obj")
        if isinstance(token, str) and token:
            self._csrf_token = token
            return True
        if required:
            raise PanelUnavailable(
                f"csrf-token: no CSRF token (HTTP {resp.status_code})",
                remote=_snippet(resp.content),
            )
        return False

    def _login_unlocked(self, *, fresh: bool = True) -> None:
        if not (self.config.username or self.config.password):
            raise PanelAuthError("no username/password configured for this panel")
        self._logged_in = False
        if fresh:
            # A dead session's cookie and its CSRF token are useless; v3 ties
            # the token to the session, so both go together.
            self._session.cookies.clear()
            self._csrf_token = ""
        if self._csrf_required and not self._csrf_token:
            self._fetch_csrf_unlocked(required=True)
        form = {"username": self.config.username, "password": self.config.password}
        resp = self._send("POST", "login", form=form, auth=False)
        if resp.status_code == 403 and not self._csrf_required and self._fetch_csrf_unlocked():
            # A panel upgraded to v3 under a stored v2 record now wants CSRF.
            self._csrf_required = True
            resp = self._send("POST", "login", form=form, auth=False)
        status = resp.status_code
        if status == 403:
            raise PanelAuthError("login: HTTP 403 forbidden (CSRF token refused)")
        if status == 404:
            raise PanelUnavailable("login: HTTP 404; check the panel URL and its web base path")
        if 300 <= status < 400:
            raise PanelUnavailable(
                f"login: HTTP {status} redirect; check http/https and the web base path"
            )
        if status != 200:
            raise PanelUnavailable(f"login: HTTP {status}", remote=_snippet(resp.content))
        try:
            body = self._decode(resp, "login")
        except _Gone as gone:
            raise PanelUnavailable(
                "login: answered HTML instead of JSON", remote=gone.detail
            ) from None
        if not body.get("success"):
            raise PanelAuthError("login refused", remote=str(body.get("msg") or "").strip())
        self._logged_in = True
        self._auth_epoch += 1

    def _probe(self, method: str, route: str) -> bool:
        resp = self._send(method, route)
        status = resp.status_code
        if status >= 500:
            raise PanelUnavailable(f"{route}: HTTP {status}", remote=_snippet(resp.content))
        if status == 401 and self._use_bearer:
            raise PanelAuthError("the API token was rejected")
        if status != 200:
            return False
        try:
            return bool(self._decode(resp, route).get("success"))
        except _Gone:
            return False

    def _detect_unlocked(self) -> str:
        self._session.cookies.clear()
        self._csrf_token = ""
        self._logged_in = False
        self._use_bearer = False
        is_v3 = self._fetch_csrf_unlocked()
        self._csrf_required = is_v3
        if is_v3 and self.config.api_token:
            self._use_bearer = True
        elif self.config.username or self.config.password:
            self._login_unlocked(fresh=False)  # keep the session the token belongs to
        elif self.config.api_token:
            raise PanelAuthError("API tokens need 3x-ui v3; set a username and password")
        else:
            raise PanelAuthError("no credentials configured for this panel")
        if is_v3 and self._probe("GET", "panel/api/clients/list"):
            generation = V3_CLIENTS
        elif self._probe("GET", "panel/api/inbounds/list"):
            generation = V3 if is_v3 else V2
        elif not is_v3 and self._probe("GET", "xui/API/inbounds/"):
            generation = LEGACY
        elif not is_v3 and self._probe("POST", "xui/inbound/list"):
            raise PanelError("vaxilu/x-ui has no per-client API; it is not supported")
        else:
            raise PanelUnavailable("no known 3x-ui API answered at this URL")
        self.api_generation = generation
        logger.info("panel %s speaks API generation %s", self._where(), generation)
        return generation

    def _where(self) -> str:
        # Host only: the web base path is a secret worth keeping out of logs.
        return self.config.base_url.split("/")[2] if "//" in self.config.base_url else "?"
