"""Settings for the benchmark only: the project's settings, plus django-hordak (the peer).

Used by `bench/run.py` inside `bench/.venv` (hordak never enters the project's venv). The
journal of hordak lives in its own tables (`hordak_*`) of the same throwaway bench database.
"""

import os

from ledger.settings import *  # noqa: F403
from ledger.settings import INSTALLED_APPS, STORAGES

try:
    import hordak  # noqa: F401
except ImportError:  # the project's venv: the harness's core parts still work without the peer
    HAVE_HORDAK = False
else:
    HAVE_HORDAK = True
    INSTALLED_APPS = [*INSTALLED_APPS, "mptt", "hordak"]
    HORDAK_DEFAULT_CURRENCY = "EUR"
    DEFAULT_CURRENCY = "EUR"
    CURRENCIES = ["EUR"]
    HORDAK_CURRENCIES = ["EUR"]

# The bench urlconf adds a trivial JSON view (the floor of the API benchmark) to the app's urls.
ROOT_URLCONF = os.environ.get("ROOT_URLCONF", "bench.urls")

# gunicorn runs with DEBUG off; serve the admin's assets without a collectstatic manifest.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
