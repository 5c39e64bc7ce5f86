"""The two delivery interfaces. `send` returns the provider's message id and
raises `DeliveryError` when the provider refused or could not be reached."""
from __future__ import annotations

from email.message import EmailMessage
from typing import Protocol


class DeliveryError(Exception):
    pass


class SmsProvider(Protocol):
    name: str

    def send(self, to: str, text: str, template: str, params: dict) -> str: ...


class MailProvider(Protocol):
    name: str

    def send(self, message: EmailMessage) -> str: ...
