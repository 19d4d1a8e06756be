from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _
from django.views.static import serve

from moonvpn import throttling

# A URL no route matches answers JSON under /api/ (the API's documented error form).
handler404 = "moonvpn.api.not_found"

admin.site.site_header = _("MoonVPN operator console")
admin.site.site_title = _("MoonVPN")
admin.site.index_title = _("Panels, sales and customers")

urlpatterns = [
    # Before the admin's own login: the same view, refusing password guessing.
    path("admin/login/", throttling.admin_login),
    path("admin/", admin.site.urls),
    path("api/v1/", include("moonvpn.api_urls")),
    path("telegram/", include("botapp.urls")),
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
