"""The drift view in the console: a panel against the database, and the fixes.

A mixin for the panel admin (one URL, ``<panel>/drift/``): GET compares (panels.drift,
one listing of the panel), POST applies one fix to one row or to every row of a kind.
Fixes change clients and accounts, so both need "change panel" (the panel admin role).
"""

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _

from accounts.models import User
from billing.models import Plan
from panels import drift
from panels.lifecycle import LifecycleError
from panels.models import ClientAccount

ACCOUNT_FIXES = {
    "push": drift.drift_push,
    "accept": drift.drift_accept,
    "recreate": drift.drift_recreate,
}


class DriftAdminMixin:
    def get_urls(self):
        return [
            path(
                "<path:object_id>/drift/",
                self.admin_site.admin_view(self.drift_view),
                name="panels_panel_drift",
            ),
            *super().get_urls(),
        ]

    def has_drift_permission(self, request, panel=None):
        return self.has_change_permission(request, panel)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {})}
        if self.has_drift_permission(request):
            extra_context["drift_url"] = reverse("admin:panels_panel_drift", args=[object_id])
        return super().change_view(request, object_id, form_url, extra_context)

    def drift_view(self, request, object_id):
        if not self.has_drift_permission(request):
            raise PermissionDenied
        panel = self.get_object(request, unquote(object_id))
        if panel is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if request.method == "POST":
            try:
                text = _drift_fix(request, panel)
            except (LifecycleError, ValueError) as exc:
                self.message_user(request, str(exc), level=messages.ERROR)
            else:
                self.message_user(request, text, level=messages.SUCCESS)
            return HttpResponseRedirect(request.path)
        error, report = "", None
        try:
            report = drift.panel_drift(panel=panel)
        except LifecycleError as exc:
            error = str(exc)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Drift: %(panel)s") % {"panel": panel},
            "panel": panel,
            "report": report,
            "error": error,
            "plans": Plan.objects.filter(is_active=True),
        }
        return TemplateResponse(request, "admin/panels/panel/drift.html", context)


def _drift_fix(request, panel) -> str:
    fix = request.POST.get("fix", "")
    actor = request.user
    if fix.startswith("all-"):
        done = drift.drift_fix_all(panel=panel, kind=fix.removeprefix("all-"), actor=actor)
        return _("%(count)s rows fixed.") % {"count": done}
    if fix in ACCOUNT_FIXES:
        account = ClientAccount.objects.select_related("plan", "inbound", "panel", "user").get(
            pk=int(request.POST.get("account", "0") or 0), panel=panel
        )
        ACCOUNT_FIXES[fix](account=account, actor=actor)
        return _("Fixed: %(account)s") % {"account": account}
    email = request.POST.get("email", "")
    if fix == "delete":
        drift.drift_delete_orphan(panel=panel, email=email, actor=actor)
        return _("Deleted from the panel: %(email)s") % {"email": email}
    if fix == "adopt":
        telegram_id = request.POST.get("telegram_id", "").strip()
        user = User.objects.filter(telegram_id=int(telegram_id) if telegram_id.isdigit() else -1)
        plan = Plan.objects.filter(pk=int(request.POST.get("plan", "0") or 0)).first()
        if not user.exists() or plan is None:
            raise ValueError(_("Give the customer's Telegram id and a plan."))
        account = drift.drift_adopt(
            panel=panel, email=email, user=user.get(), plan=plan, actor=actor
        )
        return _("Adopted: %(account)s") % {"account": account}
    raise ValueError(_("Unknown fix."))
