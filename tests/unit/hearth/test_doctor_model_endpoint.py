"""`hearth doctor`, the bot's model endpoint: GET /models with the key (devtools/fake_openai)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.fake_openai import FakeOpenAI
from hearth.doctor.model_endpoint import check_model_endpoint
from hearth.settings import AiBotSettings
from tests.harness.ports import free_port

KEY = "sk-doctor-right"


@pytest.fixture
def keyed_model() -> Iterator[FakeOpenAI]:
    """A model server that wants ``KEY``."""
    server = FakeOpenAI(api_key=KEY)
    server.start()
    yield server
    server.stop()


def _bot(tmp_path: Path, base_url: str, key: str = KEY, model: str = "gpt-4o") -> AiBotSettings:
    key_file = tmp_path / "key"
    key_file.write_text(key + "\n")
    return AiBotSettings(base_url=base_url, api_key_file=str(key_file), default_model=model)


def test_right_key_and_listed_model_is_ok(keyed_model: FakeOpenAI, tmp_path: Path) -> None:
    """The endpoint accepts the key and lists the configured model."""
    finding = check_model_endpoint(_bot(tmp_path, keyed_model.base_url))
    assert finding.level == "ok", finding
    assert "lists gpt-4o" in finding.what


def test_wrong_key_is_a_problem(keyed_model: FakeOpenAI, tmp_path: Path) -> None:
    """401: the key is wrong, and where to put the right one."""
    finding = check_model_endpoint(_bot(tmp_path, keyed_model.base_url, key="sk-wrong"))
    assert finding.level == "problem"
    assert "refused the API key (401)" in finding.what
    assert "ai_bot.api_key_file" in finding.fix


def test_unlisted_model_is_a_warning(keyed_model: FakeOpenAI, tmp_path: Path) -> None:
    """A default model the endpoint does not offer is named, with what it does offer."""
    finding = check_model_endpoint(_bot(tmp_path, keyed_model.base_url, model="gpt-9"))
    assert finding.level == "warning"
    assert "does not list the model gpt-9 (it lists gpt-4o, gpt-4o-mini)" in finding.what
    assert finding.fix == "set ai_bot.default_model to one of the listed models"


def test_endpoint_down_is_a_problem(tmp_path: Path) -> None:
    """Connection refused: the endpoint is down."""
    base_url = f"http://127.0.0.1:{free_port()}/v1"
    finding = check_model_endpoint(_bot(tmp_path, base_url))
    assert finding.level == "problem"
    assert f"the model endpoint {base_url} does not answer" in finding.what
    assert "ai_bot.base_url" in finding.fix


def test_no_key_means_the_bot_is_off(tmp_path: Path) -> None:
    """Without a key the bot does not start, so the endpoint is not asked."""
    settings = AiBotSettings(api_key_file=str(tmp_path / "absent"))
    finding = check_model_endpoint(settings)
    assert finding.level == "ok"
    assert "the AI bot is off: no model API key" in finding.what
