"""The model catalogue: what each model can do and what it costs.

Budgets are only as right as these prices, so the built-in entries are OpenAI's published list
prices and every other model (a local Llama, an Azure deployment name) must be declared in the
bot config with its own figures, since guessing a price would make the spend figures lie.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import Field

from hearth.ai_bot.llm.types import ModelInfo
from hearth.configuration.errors import config_error
from hearth.configuration.module_config import FrozenConfig, parse_module_config

# OpenAI list prices in USD per million tokens (standard tier, uncached input), as published on
# OpenAI's pricing and model pages in 2025 (checked 2025-06). Context windows and output caps
# from the same model pages. All of them take tools and images.
_OPENAI_MODELS: tuple[tuple[str, int, float, float, int], ...] = (
    # name           context    input  output  max output tokens
    ("gpt-4o",       128_000,   2.50,  10.00,  16_384),
    ("gpt-4o-mini",  128_000,   0.15,  0.60,   16_384),
    ("gpt-4.1",      1_047_576, 2.00,  8.00,   32_768),
    ("gpt-4.1-mini", 1_047_576, 0.40,  1.60,   32_768),
)
DEFAULT_MODELS: tuple[ModelInfo, ...] = tuple(
    ModelInfo(name, context_window=context, input_price_per_mtok=input_price,
              output_price_per_mtok=output_price, supports_tools=True, supports_vision=True,
              max_output_tokens=max_output)
    for name, context, input_price, output_price, max_output in _OPENAI_MODELS
)


class UnknownModelError(LookupError):
    """A model name the catalogue has no entry for (so no price and no limits)."""


class _Entry(FrozenConfig):
    """One catalogue entry in the config; every field optional so overrides can be partial."""

    context_window: int | None = Field(default=None, gt=0)
    input_price_per_mtok: float | None = Field(default=None, ge=0)
    output_price_per_mtok: float | None = Field(default=None, ge=0)
    supports_tools: bool | None = None
    supports_vision: bool | None = None
    max_output_tokens: int | None = Field(default=None, gt=0)


_REQUIRED = ("context_window", "input_price_per_mtok", "output_price_per_mtok")


class Catalogue:
    """Models by name; built-in entries plus those from the bot config."""

    def __init__(self, models: Mapping[str, ModelInfo]) -> None:
        self._models = dict(models)

    @classmethod
    def load(
        cls, entries: Mapping[str, Mapping[str, Any]] | None = None,
        path: str = "model.catalogue",
    ) -> Catalogue:
        """Built-in models overlaid with the config's entries (new models need all prices)."""
        models = {info.name: info for info in DEFAULT_MODELS}
        for name, raw in (entries or {}).items():
            entry = parse_module_config(_Entry, raw, f"{path}.{name}")
            given = entry.model_dump(exclude_none=True)
            if name in models:
                models[name] = dataclasses.replace(models[name], **given)
                continue
            missing = [key for key in _REQUIRED if key not in given]
            if missing:
                raise config_error(f"{path}.{name}", "a model that is not built in needs "
                                   + ", ".join(missing))
            models[name] = ModelInfo(name=name, **given)
        return cls(models)

    def get(self, name: str) -> ModelInfo:
        """The entry for ``name``, or an error that says how to add it."""
        try:
            return self._models[name]
        except KeyError:
            known = ", ".join(sorted(self._models))
            raise UnknownModelError(
                f"Unknown model '{name}': it is not in the model catalogue (known: {known}). "
                "Declare it under model.catalogue in the bot config with its context window "
                "and prices."
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._models

    def __iter__(self) -> Iterator[ModelInfo]:
        return iter(self._models.values())

    def names(self) -> list[str]:
        """All model names, sorted."""
        return sorted(self._models)
