"""Pieces the apps' admin modules share."""

from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.utils import quote
from django.http import HttpResponseRedirect
from django.urls import reverse


class ReadOnlyAdmin(admin.ModelAdmin):
    """For rows that are history or that only services write: shown, never edited here.

    Custom actions and buttons (approve, refund, ...) still work: they call services
    and check their own permissions.
    """

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ObjectActionsMixin:
    """The list's actions as buttons on an object's page, with the very same checks.

    Each button posts to the changelist as the action dropdown does (``action`` and the
    one ``_selected_action``), so it runs the same action function after the same
    permission check (``get_actions`` drops what the user may not do, and the buttons
    come from it). ``_from_object`` brings the operator back to the object's page.
    """

    # The buttons: ``object_actions``, a tuple of action names, set on the admin (or on
    # another of its mixins, hence not defined here).

    def change_view(self, request, object_id, form_url="", extra_context=None):
        available = self.get_actions(request)
        buttons = [
            (name, available[name][2])
            for name in getattr(self, "object_actions", ())
            if name in available
        ]
        extra_context = {
            **(extra_context or {}),
            "object_actions": buttons,
            "object_actions_url": reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"
            ),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def response_action(self, request, queryset):
        response = super().response_action(request, queryset)
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        if request.POST.get("_from_object") and len(selected) == 1:
            if isinstance(response, HttpResponseRedirect):
                info = (self.opts.app_label, self.opts.model_name)
                return HttpResponseRedirect(
                    reverse("admin:{}_{}_change".format(*info), args=[quote(selected[0])])
                )
        return response
