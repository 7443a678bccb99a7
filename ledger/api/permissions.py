"""Role checks. Visibility comes first (querysets scoped with `visible_to`, so an object the
caller cannot see is a 404); these answer 403 for what the caller's role may not do."""

from rest_framework import permissions

from ledger import access


class IsAdminRole(permissions.BasePermission):
    """Only staff of some program (v1's admins), for the whole view; the view then checks
    the role in the program it names."""

    message = "Only a program's staff may do this."

    def has_permission(self, request, view):
        return access.is_staff(request.user)
