"""Registration with Synapse: serve the OpenAPI document at ``OPENAPI_PATH``, no token needed.

The document describes endpoints that exist on this server only: the sections of the modules
``render.py`` enabled. It holds no secret (the project is open source), so anyone may read it;
the endpoints it describes check their callers themselves.
"""

from __future__ import annotations

import logging
from typing import Any

from synapse.api.errors import NotFoundError
from synapse.module_api import ModuleApi

from hearth.synapse_compat import check_supported
from hearth.synapse_compat.web import DirectServeJsonResource, SynapseRequest
from hearth.synapse_modules.api_docs.config import ApiDocsConfig
from hearth.synapse_modules.api_docs.document import OPENAPI_PATH, Json, build_document

logger = logging.getLogger(__name__)


class OpenApiResource(DirectServeJsonResource):
    """``GET`` answers the document; anything below the path is 404."""

    isLeaf = True

    def __init__(self, document: Json) -> None:
        super().__init__()
        self._document = document

    async def _async_render_GET(self, request: SynapseRequest) -> tuple[int, Any]:
        if any(request.postpath or ()):
            raise NotFoundError(f"Unknown path; the API description is at {OPENAPI_PATH}")
        return 200, self._document


class ApiDocsModule:
    """Serves the description of the HTTP endpoints the other modules add."""

    def __init__(self, config: ApiDocsConfig, api: ModuleApi) -> None:
        api.register_web_resource(OPENAPI_PATH, OpenApiResource(
            build_document(config.documented_modules)))
        logger.info("api_docs loaded: %s", ",".join(config.documented_modules) or "-")

    @staticmethod
    def parse_config(config: dict[str, Any]) -> ApiDocsConfig:
        """Called by Synapse before ``__init__``; a bad value stops the start."""
        check_supported("api_docs")
        return ApiDocsConfig.parse(config)
