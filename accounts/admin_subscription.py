"""The customer's one subscription URL in the console (panels.subscription).

A mixin for the user admin: the change page shows the URL (made on first view) and a
button that replaces the token; who may change a customer may replace it (a leaked
link is a support matter), and the old URL answers 404 at once.
"""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from panels import subscription


class SubscriptionAdminMixin:
    @admin.display(description=gettext_lazy("subscription link"))
    def subscription_link(self, user):
        if user.pk is None or user.is_staff:
            return "—"
        url = subscription.subscription_url(user=user)
        if not url:
            return _("Set SITE_URL to give customers one subscription link.")
        return format_html(
            '<code>{}</code><br><button type="submit" '
            'class="button" formaction="{}" formmethod="post" name="_regenerate">{}</button>',
            url,
            reverse("admin:accounts_user_subscription_regenerate", args=[user.pk]),
            _("Replace the link (the old one stops working)"),
        )

    def get_urls(self):
        custom = [
            path(
                "<path:object_id>/subscription/regenerate/",
                self.admin_site.admin_view(self.subscription_regenerate_view),
                name="accounts_user_subscription_regenerate",
            ),
        ]
        return custom + super().get_urls()

    def subscription_regenerate_view(self, request, object_id):
        if not request.user.has_perm("accounts.change_user"):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        user = self.get_object(request, unquote(object_id))
        if user is None or not self.has_change_permission(request, user):
            raise PermissionDenied
        subscription.subscription_regenerate(user=user)
        self.log_change(request, user, _("Replaced the subscription link."))
        self.message_user(request, _("The subscription link was replaced."), level=messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:accounts_user_change", args=[user.pk]))
