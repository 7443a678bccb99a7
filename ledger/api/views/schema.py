"""The OpenAPI schema, its offline docs page, and the API's own 404."""

from drf_spectacular.renderers import (
    OpenApiJsonRenderer,
    OpenApiJsonRenderer2,
    OpenApiYamlRenderer,
    OpenApiYamlRenderer2,
)
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView


class NotFoundView(APIView):
    """Any unknown path under /api/v1/: a problem+json 404, whatever the method."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = []
    schema = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        raise exceptions.NotFound("No such route.")


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI from the sidecar's static files; its init script is a separate request and
    the page has no inline script or style, so it works under a strict CSP."""

    template_name = "api/swagger_ui.html"


class SchemaView(SpectacularAPIView):
    """The OpenAPI 3 document: JSON by default, YAML with `Accept: application/yaml`."""

    renderer_classes = [
        OpenApiJsonRenderer,
        OpenApiJsonRenderer2,
        OpenApiYamlRenderer,
        OpenApiYamlRenderer2,
    ]
