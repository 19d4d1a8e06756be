"""Production safety: HTTPS settings, and no guessing passwords or tokens at full speed."""

import json
import os
import secrets
import subprocess
import sys

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework.throttling import UserRateThrottle

from moonvpn.tests.test_startup import ROOT

pytestmark = pytest.mark.django_db

SHOW = (
    "from django.conf import settings as s; import json; print(json.dumps([s.SESSION_COOKIE_SECURE,"
    " s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS,"
    " s.SECURE_PROXY_SSL_HEADER]))"
)


def _settings(**env) -> list:
    clean = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "HTTPS")}
    # A production-grade key: start-up refuses placeholders and short keys with DEBUG off.
    clean.update(
        {
            "SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_SETTINGS_MODULE": "moonvpn.settings",
            **env,
        }
    )
    code = f"import django; django.setup(); {SHOW}"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_https_true_turns_on_secure_cookies_hsts_and_the_redirect():
    secure_session, secure_csrf, redirect, hsts, proxy = _settings(HTTPS="true")
    assert secure_session and secure_csrf and redirect
    assert hsts >= 31_536_000
    assert proxy == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_without_https_nothing_redirects():
    assert _settings()[2:4] == [False, 0]


def _login(client, username, password):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": "/admin/"},
    )


def test_admin_login_refuses_a_guesser_after_five_failures(client, staff_user, settings):
    assert settings.LOGIN_MAX_FAILURES == 5
    for _ in range(5):
        assert _login(client, "operator", "wrong").status_code == 200
    # Even the right password waits now: the guesser cannot tell.
    response = _login(client, "operator", "operator-pass-123")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another name from the same address is counted on its own.
    assert _login(client, "someone-else", "wrong").status_code == 200


def test_a_successful_login_clears_the_count(client, staff_user):
    for _ in range(4):
        _login(client, "operator", "wrong")
    assert _login(client, "operator", "operator-pass-123").status_code == 302
    client.logout()
    for _ in range(4):
        assert _login(client, "operator", "wrong").status_code == 200


def test_bad_api_tokens_are_refused_after_twenty(staff_user, settings):
    good = Token.objects.create(user=staff_user).key
    client = APIClient()
    for _ in range(settings.API_MAX_BAD_TOKENS):
        client.credentials(HTTP_AUTHORIZATION="Token guess")
        assert client.get("/api/v1/users/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Token {good}")
    assert client.get("/api/v1/users/").status_code == 429


def test_staff_api_requests_are_rate_limited(staff_user, monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/minute"})
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff_user).key}")
    statuses = [client.get("/api/v1/users/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
