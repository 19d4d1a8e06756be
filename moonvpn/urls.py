from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _
from django.views.i18n import JavaScriptCatalog
from django.views.static import serve

from moonvpn import throttling
from ops import console_home
from panels.subscription_views import subscription_view

# A URL no route matches answers JSON under /api/ (the API's documented error form).
handler404 = "moonvpn.api.not_found"

admin.site.site_header = _("MoonVPN operator console")
admin.site.site_title = _("MoonVPN")
admin.site.index_title = _("Panels, sales and customers")
# There is no public site: the bot is the shop. Without this "View site" led to a 404.
admin.site.site_url = None


class ConsoleJavaScriptCatalog(JavaScriptCatalog):
    """The admin's JavaScript catalog plus ours (locale/fa/LC_MESSAGES/djangojs.po)."""

    def get_paths(self, packages):
        return [*super().get_paths(packages), *(str(p) for p in settings.LOCALE_PATHS)]


urlpatterns = [
    # First: every bot update comes here (in webhook mode), so it is matched first.
    path("telegram/", include("botapp.urls")),
    # Before the admin's own login: the same view, refusing password guessing.
    path("admin/login/", throttling.admin_login),
    # The home page is the operator's work queue (ops/console_home.py), then the app list.
    path("admin/", console_home.home_view),
    # The admin's JavaScript strings, with the Persian ones Django lacks (ops/locale).
    path(
        "admin/jsi18n/",
        ConsoleJavaScriptCatalog.as_view(packages=["django.contrib.admin"]),
        name="console-jsi18n",
    ),
    path("admin/", admin.site.urls),
    # The operators' language switch (the form in the console's header).
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("moonvpn.api_urls")),
    # The customer's one subscription (SITE_URL/sub/<token>/), every service on every panel.
    path("sub/<str:token>/", subscription_view, name="subscription"),
    # MEDIA_ROOT is never served as a folder: it holds receipt photos and QR codes
    # (a customer's working config). Each file is served by a view that checks the
    # permission of the row it belongs to: the receipt's image page (view_receipt) and
    # the account's QR page (view_clientaccount), in the console and in the API.
]

if not settings.DEBUG:
    # The admin's CSS/JS: a handful of operators, so Django serving them directly is
    # enough and spares a reverse proxy or another dependency (runserver does it in DEBUG).
    urlpatterns += [
        re_path(r"^static/(?P<path>.+)$", serve, {"document_root": settings.STATIC_ROOT})
    ]
