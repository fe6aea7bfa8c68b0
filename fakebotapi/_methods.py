"""The Bot API methods of the fake that only touch chat and profile state (no transport).

Each `_m_<method>` takes the decoded parameters and returns the `result` or raises ApiError.
Validation follows what real Telegram rejects and what bots get wrong in practice; error
descriptions imitate Telegram's wording (exact texts may differ for rarer cases).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

from fakebotapi._formatting import FormattingError, apply_parse_mode, utf16_len
from fakebotapi._model import (
    JSON,
    ApiError,
    CallbackRecord,
    FakeChat,
    InlineQueryRecord,
    StoredMessage,
    bad_request,
)

MAX_TEXT = 4096
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_LANGUAGE = re.compile(r"[a-z]{2}")
_BUTTON_ACTIONS = frozenset(
    {
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)
#: Inline results Telegram accepts in one answer, and the length of a result's id.
MAX_INLINE_RESULTS = 50
_MAX_RESULT_ID = 64
#: Inline result types and the fields each needs (the ones a text bot uses).
_INLINE_REQUIRED = {"article": ("title", "input_message_content")}
_PROFILE_LIMITS = {"description": 512, "short_description": 120, "name": 64}


def as_chat_id(value: Any) -> int | str | None:
    """Telegram accepts chat ids as numbers or numeric strings (or @usernames)."""
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    return value if isinstance(value, int | str) else None


def int_param(params: JSON, name: str, default: int | None = None) -> int:
    value = params.get(name, default)
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise bad_request(f"invalid {name} specified") from None


class BotApiMethods:
    """Chat, message and profile state plus the methods that operate on it."""

    def __init__(self, token: str, bot_username: str, bot_name: str) -> None:
        bot_id, sep, secret = token.partition(":")
        if not (bot_id.isdigit() and sep and secret):
            raise ValueError(f"token must look like '123456:ABC...', got {token!r}")
        self.token = token
        self.bot_user: JSON = {
            "id": int(bot_id),
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
        }
        self.chats: dict[int, FakeChat] = {}
        self.callbacks: dict[str, CallbackRecord] = {}
        self.inline_queries: dict[str, InlineQueryRecord] = {}
        self.blocked: set[int] = set()
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.profile: dict[tuple[str, str], str] = {}
        self.menu_buttons: dict[int | None, JSON] = {}
        self.files: dict[str, tuple[str, bytes]] = {}
        self._chat_methods: dict[str, Callable[[JSON], Any]] = {
            "sendMessage": self._m_send_message,
            "editMessageText": self._m_edit_message_text,
            "editMessageReplyMarkup": self._m_edit_message_reply_markup,
            "deleteMessage": self._m_delete_message,
            "deleteMessages": self._m_delete_messages,
            "sendChatAction": self._m_send_chat_action,
            "answerCallbackQuery": self._m_answer_callback_query,
            "answerInlineQuery": self._m_answer_inline_query,
            "setMyCommands": self._m_set_my_commands,
            "getMyCommands": self._m_get_my_commands,
            "deleteMyCommands": self._m_delete_my_commands,
            "setMyDescription": self._profile_setter("description"),
            "getMyDescription": self._profile_getter("description"),
            "setMyShortDescription": self._profile_setter("short_description"),
            "getMyShortDescription": self._profile_getter("short_description"),
            "setMyName": self._profile_setter("name"),
            "getMyName": self._profile_getter("name"),
            "setChatMenuButton": self._m_set_chat_menu_button,
            "getChatMenuButton": self._m_get_chat_menu_button,
            "getFile": self._m_get_file,
        }

    # -- chats -------------------------------------------------------------------------------

    def chat(self, chat_id: int) -> FakeChat:
        """The chat with this id (a user's private chat or a group); KeyError if unknown."""
        try:
            return self.chats[chat_id]
        except KeyError:
            raise KeyError(f"no chat {chat_id}; known chats: {sorted(self.chats)}") from None

    def group(
        self,
        chat_id: int,
        *,
        title: str = "Test group",
        type: str = "supergroup",  # the Bot API field is called `type`
        bot_is_admin: bool = True,
    ) -> FakeChat:
        """Create (or return) a group chat the bot is a member of; ids must be negative."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative (supergroups look like -100...)")
        if chat_id not in self.chats:
            self.chats[chat_id] = FakeChat(
                chat_id, type, {"title": title}, bot_is_admin=bot_is_admin
            )
        return self.chats[chat_id]

    def _target_chat(self, params: JSON) -> FakeChat:
        chat_id = as_chat_id(params.get("chat_id"))
        if chat_id is None:
            raise bad_request("chat_id is empty")
        chat = self.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise bad_request("chat not found")
        if chat.id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _target_message(self, params: JSON, *, action: str) -> StoredMessage:
        if "inline_message_id" in params:
            raise bad_request("inline messages are not supported by the fake")
        chat = self._target_chat(params)
        message = chat.get(int_param(params, "message_id", 0))
        if message is None:
            raise bad_request(f"message to {action} not found")
        return message

    # -- validation helpers ------------------------------------------------------------------

    def _formatted(self, params: JSON, field: str = "text") -> tuple[str, list[JSON]]:
        raw = params.get(field)
        if not isinstance(raw, str) or not raw.strip():
            raise bad_request("message text is empty")
        try:
            text, entities = apply_parse_mode(raw, params.get("parse_mode"))
        except FormattingError as exc:
            raise bad_request(f"can't parse entities: {exc}") from None
        explicit = params.get(f"{field}_entities" if field != "text" else "entities")
        if isinstance(explicit, list):
            entities = explicit
        if not text.strip():
            raise bad_request("message text is empty")
        if utf16_len(text) > MAX_TEXT:
            raise bad_request("message is too long")
        return text, entities

    @staticmethod
    def _markup(params: JSON) -> JSON | None:
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard") or []:
            for button in row:
                actions = _BUTTON_ACTIONS.intersection(button)
                if not button.get("text"):
                    raise bad_request("BUTTON_TEXT_INVALID")
                if len(actions) != 1:
                    raise bad_request("text buttons are unallowed in the inline keyboard")
                data = button.get("callback_data")
                if "callback_data" in button and not 1 <= len(str(data).encode()) <= 64:
                    raise bad_request("BUTTON_DATA_INVALID")
                url = button.get("url")
                if "url" in button and not re.match(r"(https?|tg)://\S+$", str(url)):
                    raise bad_request("BUTTON_URL_INVALID")
        return markup

    # -- messages ----------------------------------------------------------------------------

    def _m_send_message(self, params: JSON) -> JSON:
        chat = self._target_chat(params)
        text, entities = self._formatted(params)
        markup = self._markup(params)
        reply_to = params.get("reply_parameters") or {}
        reply_id = reply_to.get("message_id") if isinstance(reply_to, dict) else None
        reply_id = reply_id or params.get("reply_to_message_id")
        if reply_id is not None and chat.get(int(reply_id)) is None:
            if not (isinstance(reply_to, dict) and reply_to.get("allow_sending_without_reply")):
                raise bad_request("message to be replied not found")
            reply_id = None
        if markup is not None and "inline_keyboard" not in markup:
            # Reply keyboards (and their removal) change the chat's input field, not a message.
            chat.reply_keyboard = None if markup.get("remove_keyboard") else markup
        message = chat.new_message(
            from_bot=True,
            sender=self.bot_user,
            text=text,
            entities=entities,
            reply_markup=markup,
            reply_to=int(reply_id) if reply_id is not None else None,
        )
        return message.to_json()

    def _edit(
        self, message: StoredMessage, *, text: str | None, entities: list[JSON], markup: JSON | None
    ) -> JSON:
        if not message.from_bot:
            raise bad_request("message can't be edited")
        new_text = message.text if text is None else text
        new_entities = message.entities if text is None else entities
        if (new_text, new_entities, markup) == (
            message.text,
            message.entities,
            message.reply_markup,
        ):
            raise bad_request(_NOT_MODIFIED)
        if text is not None and text != message.text:
            message.text_history.append(message.text or "")
        message.text, message.entities = new_text, new_entities
        # Telegram drops the inline keyboard when an edit does not repeat it.
        message.reply_markup = markup
        message.edit_date = int(time.time())
        message.edits += 1
        return message.to_json()

    def _m_edit_message_text(self, params: JSON) -> JSON:
        message = self._target_message(params, action="edit")
        text, entities = self._formatted(params)
        return self._edit(message, text=text, entities=entities, markup=self._markup(params))

    def _m_edit_message_reply_markup(self, params: JSON) -> JSON:
        message = self._target_message(params, action="edit")
        return self._edit(message, text=None, entities=[], markup=self._markup(params))

    def _delete(self, chat: FakeChat, message_id: int) -> bool:
        message = chat.get(message_id)
        if message is None:
            return False
        if not message.from_bot and chat.type != "private" and not chat.bot_is_admin:
            raise bad_request("message can't be deleted")
        message.deleted = True
        return True

    def _m_delete_message(self, params: JSON) -> bool:
        chat = self._target_chat(params)
        if not self._delete(chat, int_param(params, "message_id", 0)):
            raise bad_request("message to delete not found")
        return True

    def _m_delete_messages(self, params: JSON) -> bool:
        chat = self._target_chat(params)
        ids = params.get("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise bad_request("message_ids must be a list of 1-100 message identifiers")
        # Like Telegram: messages that can't be found are skipped silently.
        for message_id in ids:
            self._delete(chat, int(message_id))
        return True

    def _m_send_chat_action(self, params: JSON) -> bool:
        chat = self._target_chat(params)
        action = params.get("action")
        if action not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        chat.last_action = str(action)
        return True

    def _m_answer_callback_query(self, params: JSON) -> bool:
        record = self.callbacks.get(str(params.get("callback_query_id")))
        if record is None or record.answer is not None:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        if len(str(params.get("text") or "")) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        record.answer = {k: v for k, v in params.items() if k != "callback_query_id"}
        return True

    def _m_answer_inline_query(self, params: JSON) -> bool:
        record = self.inline_queries.get(str(params.get("inline_query_id")))
        if record is None or record.answer is not None:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        results = params.get("results")
        if not isinstance(results, list) or len(results) > MAX_INLINE_RESULTS:
            raise bad_request(
                "RESULTS_TOO_MUCH" if isinstance(results, list) else "RESULTS_INVALID"
            )
        ids: set[str] = set()
        for result in results:
            self._check_inline_result(result, ids)
        record.answer = {k: v for k, v in params.items() if k != "inline_query_id"}
        return True

    def _check_inline_result(self, result: Any, ids: set[str]) -> None:
        """What Telegram checks of one result: a known type, a unique id of 1 to 64 bytes,
        the type's required fields, a message text within limits, a valid keyboard."""
        if not isinstance(result, dict) or result.get("type") not in _INLINE_REQUIRED:
            raise bad_request("RESULT_TYPE_INVALID")
        result_id = str(result.get("id", ""))
        if not 1 <= len(result_id.encode()) <= _MAX_RESULT_ID or result_id in ids:
            raise bad_request(
                "RESULT_ID_INVALID" if result_id not in ids else "RESULT_ID_DUPLICATE"
            )
        ids.add(result_id)
        if any(not result.get(field) for field in _INLINE_REQUIRED[result["type"]]):
            raise bad_request("RESULT_INVALID")
        content = result["input_message_content"]
        if not isinstance(content, dict):
            raise bad_request("MESSAGE_EMPTY")
        self._formatted(
            {"text": content.get("message_text"), "parse_mode": content.get("parse_mode")}
        )
        self._markup({"reply_markup": result.get("reply_markup")})

    def unanswered_callbacks(self) -> list[CallbackRecord]:
        """Callback queries the bot has not answered (the user's button keeps spinning)."""
        return [record for record in self.callbacks.values() if record.answer is None]

    # -- bot profile -------------------------------------------------------------------------

    @staticmethod
    def _language(params: JSON) -> str:
        code = str(params.get("language_code") or "")
        if code and not _LANGUAGE.fullmatch(code):
            raise bad_request("LANG_CODE_INVALID")
        return code

    @staticmethod
    def _scope(params: JSON) -> str:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True)

    def _m_set_my_commands(self, params: JSON) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("commands must be a list of at most 100 BotCommand objects")
        for command in commands:
            if not _COMMAND.fullmatch(str(command.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = (self._scope(params), self._language(params))
        self.commands[key] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    def _m_get_my_commands(self, params: JSON) -> list[JSON]:
        return self.commands.get((self._scope(params), self._language(params)), [])

    def _m_delete_my_commands(self, params: JSON) -> bool:
        self.commands.pop((self._scope(params), self._language(params)), None)
        return True

    def _profile_setter(self, field: str) -> Callable[[JSON], bool]:
        def setter(params: JSON) -> bool:
            value = str(params.get(field) or "")
            if len(value) > _PROFILE_LIMITS[field]:
                raise bad_request(f"{field} is too long")
            self.profile[(field, self._language(params))] = value
            return True

        return setter

    def _profile_getter(self, field: str) -> Callable[[JSON], JSON]:
        def getter(params: JSON) -> JSON:
            language = self._language(params)
            value = self.profile.get((field, language)) or self.profile.get((field, ""), "")
            if field == "name" and not value:
                value = self.bot_user["first_name"]
            return {field: value}

        return getter

    def _m_set_chat_menu_button(self, params: JSON) -> bool:
        chat_id = as_chat_id(params.get("chat_id"))
        if chat_id is not None:
            self._target_chat(params)
        button = params.get("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in (
            "default",
            "commands",
            "web_app",
        ):
            raise bad_request("can't parse menu button")
        self.menu_buttons[chat_id if isinstance(chat_id, int) else None] = button
        return True

    def _m_get_chat_menu_button(self, params: JSON) -> JSON:
        chat_id = as_chat_id(params.get("chat_id"))
        key = chat_id if isinstance(chat_id, int) else None
        return self.menu_buttons.get(key) or self.menu_buttons.get(None) or {"type": "default"}

    def _m_get_file(self, params: JSON) -> JSON:
        file_id = str(params.get("file_id"))
        if file_id not in self.files:
            raise bad_request("invalid file_id")
        path, content = self.files[file_id]
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": len(content),
            "file_path": path,
        }
