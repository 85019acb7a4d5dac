"""``python -m ai_bot --config FILE``: run the bot until SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TypeVar

from hearth.ai_bot import strings
from hearth.ai_bot.config import BotConfig, load_config
from hearth.configuration.errors import ConfigError

logger = logging.getLogger("ai_bot")
T = TypeVar("T")


async def run(config: BotConfig) -> int:
    from hearth.ai_bot.app import Bot
    from hearth.ai_bot.budget.ledger import SqlLedger
    from hearth.ai_bot.links import AnswerLinks
    from hearth.ai_bot.llm.catalogue import Catalogue
    from hearth.ai_bot.llm.factory import build_provider
    from hearth.ai_bot.llm.tokens import counter_for, warm_up
    from hearth.ai_bot.matrix.client import MatrixClient, build_nio_client
    from hearth.ai_bot.matrix.session import Session
    from hearth.ai_bot.permissions import AccessPolicy, policy_api_lookup
    from hearth.ai_bot.provision import provision
    from hearth.ai_bot.streaming.metrics import PrometheusObserver

    if config.metrics_port:
        from prometheus_client import start_http_server

        start_http_server(config.metrics_port, addr="127.0.0.1")
    catalogue = Catalogue.load(config.model.catalogue)
    catalogue.get(config.model.default)  # an unknown default is a config error, said now
    credentials = await _with_retries(lambda: provision(config))
    session = Session(config.homeserver_url, config.credentials_file, credentials)
    nio = build_nio_client(config.homeserver_url, credentials, config.store_dir,
                           config.encryption)
    await warm_up([config.model.default])
    config.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    ledger = await SqlLedger.open(config.ledger_url or f"sqlite:///{config.data_dir / 'ledger.db'}")
    links = await AnswerLinks.open(ledger.database)
    pruned = await links.prune()
    if pruned:
        logger.info("forgot %d old prompt → answer links", pruned)
    bot = Bot(
        config, MatrixClient(nio, session), password=credentials.password,
        provider=build_provider(config.model), catalogue=catalogue, ledger=ledger,
        policy=AccessPolicy(policy_api_lookup(config.homeserver_url, session)),
        counter_for=counter_for, observer=PrometheusObserver(), links=links,
    )
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, bot.stop)
    try:
        await bot.run()
    finally:
        await nio.close()  # type: ignore[no-untyped-call]
        await ledger.close()
    return 0


async def _with_retries(make: Callable[[], Awaitable[T]]) -> T:
    """Provisioning waits for a homeserver that is still starting (up to about 2 minutes)."""
    import httpx

    delay = 1.0
    for _ in range(12):
        try:
            return await make()
        except (httpx.TransportError, OSError) as exc:
            logger.warning("homeserver not reachable (%s); retrying in %.0fs", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 15)
    return await make()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ai_bot",
                                     description="Run the Hearth AI bot account.")
    parser.add_argument("--config", type=Path, default=None, help="bot configuration (YAML)")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("nio").setLevel(logging.WARNING)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not config.api_key():
        print(strings.ENABLE_HINT, file=sys.stderr)
        return 2
    from hearth.ai_bot.llm.catalogue import UnknownModelError
    from hearth.ai_bot.provision import ProvisionError

    try:
        return asyncio.run(run(config))
    except (UnknownModelError, ProvisionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
