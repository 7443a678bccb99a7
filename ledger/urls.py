from django.contrib import admin
from django.urls import include, path, re_path

from ledger.api.views import NotFoundView
from ledger.health import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include("ledger.api.urls")),
    # Anything else under /api/ is a problem+json 404 (no HTML page, no slash redirect).
    re_path(r"^api/", NotFoundView.as_view(), name="api-not-found"),
    # The pages come last: their routes must not shadow the API's.
    path("", include("ledger.web.urls")),
]
