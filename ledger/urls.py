from django.contrib import admin
from django.urls import include, path

from ledger.health import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("", include("ledger.web.urls")),
]
