"""Pieces the apps' admin modules share."""

from django.contrib import admin


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
