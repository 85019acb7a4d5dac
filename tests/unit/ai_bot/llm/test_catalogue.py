"""The model catalogue and the model settings: defaults, overrides, errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from hearth.ai_bot.llm.catalogue import DEFAULT_MODELS, Catalogue, UnknownModelError
from hearth.ai_bot.llm.config import ConfigError, ModelSettings
from hearth.ai_bot.llm.types import ModelInfo


def test_builtin_models_are_gpt4_class_with_list_prices() -> None:
    """gpt-4o, gpt-4o-mini, gpt-4.1 and gpt-4.1-mini are there with their prices."""
    catalogue = Catalogue.load()
    assert catalogue.names() == ["gpt-4.1", "gpt-4.1-mini", "gpt-4o", "gpt-4o-mini"]
    assert catalogue.get("gpt-4o") == ModelInfo(
        "gpt-4o", 128_000, 2.50, 10.00, supports_tools=True, supports_vision=True,
        max_output_tokens=16_384)
    assert catalogue.get("gpt-4o-mini").input_price_per_mtok == 0.15
    assert catalogue.get("gpt-4.1").context_window == 1_047_576
    assert all(m.supports_tools for m in DEFAULT_MODELS)


def test_config_adds_models_and_overrides_fields() -> None:
    """A new model with its figures is added; a built-in one can change just its price."""
    catalogue = Catalogue.load({
        "llama3.1:8b": {"context_window": 131_072, "input_price_per_mtok": 0,
                        "output_price_per_mtok": 0, "supports_tools": False},
        "gpt-4o": {"input_price_per_mtok": 1.25},
    })
    assert catalogue.get("llama3.1:8b") == ModelInfo(
        "llama3.1:8b", 131_072, 0.0, 0.0, supports_tools=False)
    assert catalogue.get("gpt-4o").input_price_per_mtok == 1.25
    assert catalogue.get("gpt-4o").output_price_per_mtok == 10.00
    assert "llama3.1:8b" in catalogue and len(list(catalogue)) == 5


def test_new_model_without_prices_is_refused() -> None:
    """A model we cannot price cannot be budgeted: the error names what is missing."""
    with pytest.raises(ConfigError, match=(
            r"at 'model\.catalogue\.mistral': a model that is not built in needs "
            r"input_price_per_mtok, output_price_per_mtok")):
        Catalogue.load({"mistral": {"context_window": 32_000}})


def test_bad_catalogue_value_names_the_key() -> None:
    """A negative price points at model.catalogue.<name>.<field>."""
    with pytest.raises(ConfigError, match=(
            r"'model\.catalogue\.gpt-4o\.input_price_per_mtok': got -1, .*greater than or "
            r"equal to 0")):
        Catalogue.load({"gpt-4o": {"input_price_per_mtok": -1}})
    with pytest.raises(ConfigError, match=r"'model\.catalogue\.gpt-4o\.price': unknown key"):
        Catalogue.load({"gpt-4o": {"price": 3}})


def test_unknown_model_error_says_how_to_fix_it() -> None:
    """Looking up an undeclared model lists the known ones and where to declare it."""
    with pytest.raises(UnknownModelError) as caught:
        Catalogue.load().get("claude-x")
    message = str(caught.value)
    assert message.startswith("Unknown model 'claude-x'")
    assert "gpt-4o-mini" in message and "model.catalogue" in message


def test_model_settings_defaults_and_errors(tmp_path: Path) -> None:
    """Defaults need no config; bad values and conflicting key sources are refused by path."""
    settings = ModelSettings.parse(None)
    assert settings.default == "gpt-4o" and settings.endpoint.base_url is None
    assert settings.endpoint.retry.max_attempts == 4 and settings.fallback.model is None
    with pytest.raises(ConfigError, match=r"'model\.endpoint\.timeouts\.stall_s': got 0, "):
        ModelSettings.parse({"endpoint": {"timeouts": {"stall_s": 0}}})
    with pytest.raises(ConfigError, match=r"'model\.endpoint': give api_key or api_key_path"):
        ModelSettings.parse({"endpoint": {"api_key": "a", "api_key_path": "/x"}})
    with pytest.raises(ConfigError, match=r"'model\.endpoint\.base_url'"):
        ModelSettings.parse({"endpoint": {"base_url": "localhost:11434"}})
    key_file = tmp_path / "key"
    key_file.write_text("sk-from-file\n")
    parsed = ModelSettings.parse({"endpoint": {"api_key_path": str(key_file)}})
    assert parsed.endpoint.resolved_api_key() == "sk-from-file"
