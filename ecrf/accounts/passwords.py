"""Password strength (Part 11 access control): a password must resist guessing, not only be long.

zxcvbn estimates how many guesses a password takes (dictionary words, repeats, sequences,
keyboard patterns, dates, l33t substitutions), so ``aaaaaaaaaaaa`` or ``Password1234`` fail
although they pass the length rule. Score 3 of 4 means "safely unguessable" against an online
attack and moderate protection offline.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from zxcvbn import zxcvbn

MIN_SCORE = 3
# zxcvbn reads at most this many characters (longer inputs only slow it down).
MAX_CHECKED_LENGTH = 100


class StrengthValidator:
    def __init__(self, min_score: int = MIN_SCORE) -> None:
        self.min_score = min_score

    def validate(self, password: str, user: Any = None) -> None:
        hints = [str(getattr(user, name, "") or "") for name in ("username", "first_name", "last_name", "email")]
        result = zxcvbn(password[:MAX_CHECKED_LENGTH], user_inputs=[h for h in hints if h])
        if result["score"] < self.min_score:
            feedback = result.get("feedback") or {}
            detail = " ".join(filter(None, [feedback.get("warning", ""), *feedback.get("suggestions", [])]))
            raise ValidationError(
                "This password is too easy to guess (repeated characters, common words or patterns). %(detail)s",
                code="password_too_weak", params={"detail": detail or "Use several unrelated words with digits or symbols."})

    def get_help_text(self) -> str:
        return "Your password must be hard to guess: not repeated characters, sequences or common words."
