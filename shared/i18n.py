"""Per-request language for messages: `Accept-Language` picks `ru` (default) or `en`.

The language lives in a context variable set by the request middleware, so two requests served
concurrently never see each other's choice (the older API kept it in a process global).
"""

from __future__ import annotations

from contextvars import ContextVar

DEFAULT_LANGUAGE = "ru"
LANGUAGES = ("ru", "en")
current_language: ContextVar[str] = ContextVar("current_language", default=DEFAULT_LANGUAGE)

MESSAGES: dict[str, dict[str, str]] = {
    "ok": {"ru": "Успешно", "en": "Success"},
    "created": {"ru": "Создано", "en": "Created"},
    "updated": {"ru": "Обновлено", "en": "Updated"},
    "deleted": {"ru": "Удалено", "en": "Deleted"},
    "validation": {"ru": "Ошибка валидации", "en": "Validation failed"},
    "unauthorized": {"ru": "Требуется авторизация", "en": "Authentication required"},
    "token_expired": {"ru": "Срок действия токена истёк", "en": "Token expired"},
    "invalid_token": {"ru": "Недействительный токен", "en": "Invalid token"},
    "access_denied": {"ru": "Доступ запрещён", "en": "Access denied"},
    "banned": {"ru": "Пользователь заблокирован", "en": "User is banned"},
    "not_found": {"ru": "Не найдено", "en": "Not found"},
    "method_not_allowed": {"ru": "Метод не разрешён", "en": "Method not allowed"},
    "conflict": {"ru": "Конфликт", "en": "Conflict"},
    "payload_too_large": {"ru": "Слишком большой запрос", "en": "Payload too large"},
    "unsupported_media_type": {"ru": "Неподдерживаемый тип данных", "en": "Unsupported media type"},
    "rate_limited": {"ru": "Слишком много запросов", "en": "Too many requests"},
    "idempotency_key_reused": {
        "ru": "Этот Idempotency-Key уже использован для другого запроса",
        "en": "This Idempotency-Key was already used for a different request",
    },
    "idempotency_key_in_progress": {
        "ru": "Запрос с этим Idempotency-Key ещё выполняется",
        "en": "A request with this Idempotency-Key is still in progress",
    },
    "idempotency_key_committed": {
        "ru": "Запрос с этим Idempotency-Key уже выполнен, но его ответ потерян",
        "en": "A request with this Idempotency-Key was already carried out; its answer was lost",
    },
    "email_quota_exhausted": {
        "ru": "Сейчас мы не можем отправить письмо, попробуйте позже",
        "en": "We cannot send mail right now, please try again later",
    },
    "too_many_signins": {
        "ru": "Слишком много неудачных попыток входа, попробуйте позже",
        "en": "Too many failed sign-ins, try again later",
    },
    "unavailable": {"ru": "Сервис временно недоступен", "en": "Service unavailable"},
    "internal": {"ru": "Внутренняя ошибка сервера", "en": "Internal server error"},
    "malformed_json": {"ru": "Некорректный JSON", "en": "Malformed JSON"},
    "bad_credentials": {"ru": "Неверный логин или пароль", "en": "Invalid login or password"},
    "email_taken": {"ru": "Email уже зарегистрирован", "en": "Email is already registered"},
    "username_taken": {"ru": "Имя пользователя занято", "en": "Username is taken"},
    "role_required": {"ru": "У пользователя нет этой роли", "en": "User does not have this role"},
    "invalid_refresh_token": {"ru": "Недействительный refresh-токен", "en": "Invalid refresh token"},
    "signed_in": {"ru": "Вход выполнен", "en": "Signed in"},
    "signed_up": {"ru": "Регистрация выполнена", "en": "Signed up"},
    "signed_out": {"ru": "Выход выполнен", "en": "Signed out"},
    "email_sent": {
        "ru": "Если адрес зарегистрирован, письмо отправлено",
        "en": "If the address is registered, an email has been sent",
    },
    "password_updated": {"ru": "Пароль обновлён", "en": "Password updated"},
    "wrong_password": {"ru": "Неверный текущий пароль", "en": "Current password is wrong"},
    "account_deleted": {"ru": "Аккаунт удалён", "en": "Account deleted"},
    "user_banned": {"ru": "Пользователь заблокирован", "en": "User banned"},
    "user_unbanned": {"ru": "Пользователь разблокирован", "en": "User unbanned"},
    "email_not_confirmed": {"ru": "Email не подтверждён", "en": "Email is not confirmed"},
    "signup_disabled": {"ru": "Регистрация отключена", "en": "Sign-up is disabled"},
    "field_required": {"ru": "Обязательное поле", "en": "This field is required"},
    "field_invalid": {"ru": "Некорректное значение", "en": "Invalid value"},
    "in_use": {"ru": "Запись используется и не может быть удалена", "en": "The entry is in use and cannot be deleted"},
    "name_taken": {"ru": "Такое название уже существует", "en": "This name already exists"},
    "slug_taken": {"ru": "Такой адрес (slug) уже занят", "en": "This slug is already taken"},
    "download_quota": {
        "ru": "Достигнут дневной лимит скачиваний", "en": "The daily download limit has been reached",
    },
    "interior_created": {
        "ru": "Интерьер создан и отправлен на модерацию", "en": "Interior created, awaiting moderation"
    },
    "liked": {"ru": "Отмечено как понравившееся", "en": "Liked"},
    "unliked": {"ru": "Отметка снята", "en": "Unliked"},
    "saved": {"ru": "Сохранено", "en": "Saved"},
    "unsaved": {"ru": "Удалено из сохранённых", "en": "Removed from saved"},
    "comment_created": {"ru": "Комментарий добавлен", "en": "Comment added"},
    "tag_created": {"ru": "Модель отмечена", "en": "Model pinned"},
    "notifications_seen": {"ru": "Уведомления прочитаны", "en": "Notifications marked as seen"},
    "project_created": {"ru": "Проект создан", "en": "Project created"},
}


def pick_language(header: str | None) -> str:
    """Return the first supported language in an Accept-Language header, honouring q-weights."""
    if not header:
        return DEFAULT_LANGUAGE
    best, best_q = DEFAULT_LANGUAGE, -1.0
    for part in header.split(","):
        tag, _, params = part.strip().partition(";")
        lang = tag.strip().lower()[:2]
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if lang in LANGUAGES and q > best_q:
            best, best_q = lang, q
    return best


def t(key: str, **params: object) -> str:
    """Translate a message key into the current request's language; unknown keys pass through."""
    entry = MESSAGES.get(key)
    if entry is None:
        return key.format(**params) if params else key
    text = entry.get(current_language.get()) or entry[DEFAULT_LANGUAGE]
    return text.format(**params) if params else text
