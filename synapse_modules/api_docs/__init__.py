"""API description: the OpenAPI 3.1 document of every HTTP endpoint our modules add."""

from hearth.synapse_modules.api_docs.module import ApiDocsModule

__all__ = ["ApiDocsModule"]
