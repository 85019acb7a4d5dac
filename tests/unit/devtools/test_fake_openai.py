"""The fake OpenAI server itself: it must look like the real API to the real SDK."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request

import openai
import pytest

from devtools.fake_openai import (
    Fail,
    FakeOpenAI,
    FakeToolCall,
    Reply,
    step_from_json,
    step_to_json,
)
from hearth.ai_bot.llm.config import ConfigError, ModelSettings
from hearth.ai_bot.llm.factory import build_provider
from hearth.ai_bot.llm.fallback import FallbackProvider
from hearth.ai_bot.llm.openai_provider import OpenAIProvider
from hearth.render import PROJECT_DIR
from tests.harness.ports import free_port
from tests.unit.ai_bot.llm.support import collect, request, text_of

ROOT = PROJECT_DIR


async def test_non_streaming_completion_and_model_list(fake_openai: FakeOpenAI) -> None:
    """The SDK parses a plain chat.completion (with tool calls) and GET /v1/models."""
    fake_openai.push(Reply(text="Plain answer.", tool_calls=(FakeToolCall("f", '{"a":1}'),),
                           prompt_tokens=11, completion_tokens=4))
    client = openai.AsyncOpenAI(base_url=fake_openai.base_url, api_key="k", max_retries=0)
    try:
        completion = await client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
        models = await client.models.list()
    finally:
        await client.close()
    choice = completion.choices[0]
    assert choice.message.content == "Plain answer." and choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls is not None
    assert completion.usage is not None and completion.usage.total_tokens == 15
    assert [m.id for m in models.data] == ["gpt-4o", "gpt-4o-mini"]


async def test_wrong_api_key_is_refused_like_openai() -> None:
    """With api_key set, a wrong bearer gets 401 invalid_api_key, mapped to 'auth'."""
    server = FakeOpenAI(api_key="right")
    server.start()
    try:
        provider = OpenAIProvider(ModelSettings.parse(
            {"endpoint": {"base_url": server.base_url, "api_key": "wrong"}}).endpoint)
        with pytest.raises(Exception, match="refused the bot's credentials"):
            await collect(provider, request())
        await provider.aclose()
    finally:
        server.stop()


def test_steps_round_trip_through_json() -> None:
    """Steps sent to a separate server process arrive unchanged."""
    steps = [Reply(text="x", tool_calls=(FakeToolCall("f", "{}", id="c"),), cut_after=2),
             Fail(429, retry_after="1")]
    assert [step_from_json(json.loads(json.dumps(step_to_json(s)))) for s in steps] == steps


def _post(url: str, payload: object) -> object:
    req = urllib.request.Request(url, data=json.dumps(payload).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as response:
        return json.loads(response.read())


async def test_standalone_process_is_scripted_over_http() -> None:
    """`python -m devtools.fake_openai --port N` serves, takes scripts, records requests."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.fake_openai", "--port", str(port),
         "--reply", "Default from the process."],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == f"ready: http://127.0.0.1:{port}/v1"
        base = f"http://127.0.0.1:{port}"
        assert _post(f"{base}/_fake/script",
                     [step_to_json(Reply(text="Scripted answer."))]) == {"queued": 1}
        settings = ModelSettings.parse({"endpoint": {"base_url": f"{base}/v1"}})
        provider = build_provider(settings)
        assert isinstance(provider, OpenAIProvider)
        assert text_of(await collect(provider, request())) == "Scripted answer."
        assert text_of(await collect(provider, request())) == "Default from the process."
        await provider.aclose()
        with urllib.request.urlopen(f"{base}/_fake/requests", timeout=5) as response:
            recorded = json.loads(response.read())
        assert len(recorded) == 2 and recorded[0]["body"]["model"] == "gpt-4o"
        _post(f"{base}/_fake/reset", {})
    finally:
        process.terminate()
        process.wait(10)


def test_factory_wraps_the_fallback_when_configured() -> None:
    """A fallback model in the settings gives a FallbackProvider; none gives the plain one."""
    settings = ModelSettings.parse({
        "endpoint": {"base_url": "http://127.0.0.1:9/v1", "api_key": "k"},
        "fallback": {"model": "gpt-4o-mini", "failure_threshold": 2, "open_s": 5},
    })
    provider = build_provider(settings)
    assert isinstance(provider, FallbackProvider)
    assert provider.model_for("gpt-4o") == "gpt-4o"


async def test_openai_environment_variables_are_enough(fake_openai: FakeOpenAI,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """OPENAI_BASE_URL and OPENAI_API_KEY alone configure the endpoint (no config values)."""
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    provider = build_provider(ModelSettings.parse({}))
    assert isinstance(provider, OpenAIProvider)
    try:
        assert text_of(await collect(provider, request())) == "Hello from the fake model."
    finally:
        await provider.aclose()
    assert fake_openai.requests[0].headers["authorization"] == "Bearer sk-from-env"


def test_missing_key_for_openai_itself_is_a_config_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """No key and no base URL (so api.openai.com): refused at start-up, saying what to set."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ConfigError, match="set OPENAI_API_KEY"):
        build_provider(ModelSettings.parse({}))
