"""The OpenAPI document is valid OpenAPI 3.1, whole and for each module switched off."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from hearth.synapse_modules.api_docs.document import OPENAPI_PATH, SECTIONS, build_document


@pytest.mark.parametrize("modules", [tuple(SECTIONS), (), *((m,) for m in SECTIONS)],
                         ids=lambda modules: "+".join(modules) or "none")
def test_document_is_valid_openapi_3_1(modules: tuple[str, ...]) -> None:
    """openapi-spec-validator accepts the document a server with these modules serves."""
    document = build_document(modules)
    assert document["openapi"].startswith("3.1.")
    validate(document)


def test_validator_catches_a_broken_document() -> None:
    """The check can fail: a response without its required description is refused."""
    document = build_document()
    del document["paths"][OPENAPI_PATH]["get"]["responses"]["200"]["description"]
    with pytest.raises(OpenAPIValidationError):
        validate(document)


def test_every_refusal_is_documented_as_a_matrix_error() -> None:
    """Each 4xx of a JSON operation answers the MatrixError schema (errcode + error)."""
    document = build_document()
    assert document["components"]["schemas"]["MatrixError"]["required"] == ["errcode", "error"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            for status, response in operation["responses"].items():
                media = response.get("content", {}).get("application/json")
                if status.startswith("4") and media is not None:
                    assert media["schema"] == {"$ref": "#/components/schemas/MatrixError"}, (
                        method, path, status)
