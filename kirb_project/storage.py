"""Static files storage for production: hashed, compressed, and module imports rewritten.

The page is plain ES modules; without rewriting, ``import "./api.js"`` inside the hashed
``app.<hash>.js`` would load an unhashed, cached ``api.js`` from an older release.
"""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class KirbStaticFilesStorage(CompressedManifestStaticFilesStorage):
    support_js_module_import_aggregation = True
