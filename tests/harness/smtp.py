"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives for the tests."""

from __future__ import annotations

import email
import email.policy
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.harness.ports import free_port


@dataclass
class Mailbox:
    """Messages received so far, with a way to wait for the next one to an address."""

    messages: list[EmailMessage] = field(default_factory=list)
    _lock: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)  # type: ignore[arg-type]
            self._lock.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, to: str, timeout: float = 30.0) -> EmailMessage:
        """The first message addressed to ``to``, waiting up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                for message in self.messages:
                    if to in str(message.get("To", "")):
                        return message
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no mail to {to} within {timeout}s")
                self._lock.wait(remaining)


class SmtpServer:
    """Start/stop wrapper around aiosmtpd's threaded controller."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mailbox = Mailbox()
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()
