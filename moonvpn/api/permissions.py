"""Who may call an endpoint: staff, and the Django model permission of what it does."""

from rest_framework import permissions


class StaffModelPermissions(permissions.DjangoModelPermissions):
    """Staff, and the Django model permission of what the request does.

    Reading takes ``view_<model>`` (DRF's class lets any authenticated user read).
    A custom action (approve, refund, adjust-wallet...) takes the permissions named
    in its ``@action(required_perms=[...])``; a custom action that names none is
    refused, so a new action cannot slip out with the default ``add_<model>``.
    """

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }
    STANDARD_ACTIONS = {
        "list",
        "retrieve",
        "create",
        "update",
        "partial_update",
        "destroy",
        "metadata",
        None,
    }

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and user.is_active and user.is_staff):
            return False
        action = getattr(view, "action", None)
        if action in self.STANDARD_ACTIONS:
            return super().has_permission(request, view)
        required = getattr(view, "required_perms", None)
        if required is None:
            return False
        return user.has_perms(required)
