"""The inbox and the email preference: each person's own, nobody else's."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from ledger import routing, services
from ledger.models import Notification
from ledger.notifications import subject_path

from .. import forms
from .common import next_url, page_of


@login_required
@routing.replica_reads()
def notifications(request):
    """The signed-in person's notifications, newest first; `?unread=true` for the unread."""
    rows = Notification.objects.of(request.user)
    unread_only = request.GET.get("unread") == "true"
    if unread_only:
        rows = rows.unread()
    page = page_of(request, rows)
    for notification in page:
        notification.link = subject_path(
            notification.subject_type, notification.subject_id, notification.program_id
        )
    return render(request, "web/notifications.html", {"page": page, "unread_only": unread_only})


@login_required
@require_POST
def notification_read(request, pk):
    notification = get_object_or_404(Notification.objects.of(request.user), pk=pk)
    services.mark_read(notification=notification, user=request.user)
    return redirect(next_url(request, reverse("notifications")))


@login_required
@require_POST
def notifications_read_all(request):
    marked = services.mark_all_read(user=request.user)
    messages.success(request, f"Marked {marked} notification{'s' if marked != 1 else ''} read.")
    return redirect("notifications")


@login_required
def notification_preferences(request):
    # Bound on any POST: an unticked box sends nothing, and a POST of nothing turns it off.
    form = forms.PreferencesForm(
        request.POST if request.method == "POST" else None,
        initial={"email_notifications": request.user.email_notifications},
    )
    if request.method == "POST" and form.is_valid():
        services.set_preferences(
            user=request.user, email_notifications=form.cleaned_data["email_notifications"]
        )
        messages.success(request, "Your preferences are saved.")
        return redirect("notification_preferences")
    return render(request, "web/notification_preferences.html", {"form": form})
