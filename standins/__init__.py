"""Test stand-ins: a fake Telegram Bot API, a fake 3x-ui panel and its subscription server.

Used by the tests, `manage.py demo` and bench/. No product module imports this package
(moonvpn/tests/test_architecture.py checks it).
"""
