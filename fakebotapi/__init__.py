"""Test doubles for running the real bot end to end: a fake Telegram Bot API server."""

from fakebotapi._http import free_port
from fakebotapi._limits import FloodReport, FloodWaitError, Limits, flood_report
from fakebotapi._model import (
    EDIT_METHODS,
    SEND_METHODS,
    ApiError,
    Call,
    CallbackRecord,
    FakeChat,
    InlineButton,
    InlineQueryRecord,
    RateReport,
    StoredMessage,
    WebhookDelivery,
    count_rate_violations,
)
from fakebotapi._updates import CONFIGURED_SECRET, WebhookConfig
from fakebotapi._user import ButtonNotFoundError, FakeUser
from fakebotapi.fake_bot_api import FakeBotApi

__all__ = [
    "CONFIGURED_SECRET",
    "EDIT_METHODS",
    "SEND_METHODS",
    "ApiError",
    "ButtonNotFoundError",
    "Call",
    "CallbackRecord",
    "FakeBotApi",
    "FakeChat",
    "FakeUser",
    "FloodReport",
    "FloodWaitError",
    "InlineButton",
    "InlineQueryRecord",
    "Limits",
    "RateReport",
    "StoredMessage",
    "WebhookConfig",
    "WebhookDelivery",
    "count_rate_violations",
    "flood_report",
    "free_port",
]
