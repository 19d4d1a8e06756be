"""Guessing passwords and API tokens at full speed: counted failures, then a wait.

No new dependency: failures are counted in Django's cache (the local-memory cache by
default, so per process; with several web workers the limit applies per worker).

* The admin login counts failed logins per client address and user name; past
  ``LOGIN_MAX_FAILURES`` in ``LOGIN_LOCKOUT_MINUTES`` that pair is answered 429 until
  the window ends. A successful login clears the count.
* The API's token authentication counts bad tokens per client address the same way
  (``API_MAX_BAD_TOKENS``). DRF's own throttles (settings.REST_FRAMEWORK) run only
  after authentication succeeded, so they cannot see a token being guessed.
"""

import hashlib

from django.conf import settings
from django.contrib import admin
from django.core.cache import cache
from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication


def _client(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _key(kind: str, *parts: str) -> str:
    digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]
    return f"moonvpn:failures:{kind}:{digest}"


def _window() -> int:
    return settings.LOGIN_LOCKOUT_MINUTES * 60


def failures(key: str) -> int:
    return cache.get(key, 0)


def record_failure(key: str) -> None:
    # add() starts the window; incr() never extends it.
    if not cache.add(key, 1, _window()):
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, _window())


def _too_many_logins() -> HttpResponse:
    message = _("Too many failed logins. Try again in %(minutes)s minutes.") % {
        "minutes": settings.LOGIN_LOCKOUT_MINUTES
    }
    response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(_window())
    return response


@never_cache
@csrf_protect
def admin_login(request, extra_context=None):
    """The admin's login view, refusing a client that failed too often for this name."""
    if request.method != "POST":
        return admin.site.login(request, extra_context)
    username = str(request.POST.get("username", "")).strip().lower()
    key = _key("login", _client(request), username)
    if failures(key) >= settings.LOGIN_MAX_FAILURES:
        return _too_many_logins()
    response = admin.site.login(request, extra_context)
    if request.user.is_authenticated and request.user.is_active and request.user.is_staff:
        cache.delete(key)
    else:
        record_failure(key)
    return response


class RateLimitedTokenAuthentication(TokenAuthentication):
    """Token authentication that stops answering a client after many bad tokens."""

    def authenticate(self, request):
        key = _key("token", _client(request))
        if failures(key) >= settings.API_MAX_BAD_TOKENS:
            raise exceptions.Throttled(wait=_window())
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            record_failure(key)
            raise
