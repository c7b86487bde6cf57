"""Which feedback opens a case: what someone can act on, and nothing else.

- A comment opens a case, unless it says nothing ("không có ý kiến") or is a plain compliment
  (every rating at the top of the scale, praise, and no word of a request or complaint). Both
  are kept and shown with the unit's comments.
- A low rating opens a case when there is a way back to the citizen: a contact left with the
  comment, or a dossier (the one-stop system knows whom to call). An anonymous low rating without
  text opens none: it counts in the unit's low-rating signal (``Response.low_rating``).

The compliment rule errs towards a case: a comment it cannot be sure of is feedback. Both choices
are configurable (``CASE_OPEN_COMPLIMENTS``, ``CASE_OPEN_ANONYMOUS_LOW``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from surveyapp.services.validation import folded

FEEDBACK = "feedback"
COMPLIMENT = "compliment"
EMPTY = "empty"

_WORDS = re.compile(r"[^\W_]+")
# Said when there is nothing to say (compared without diacritics and punctuation).
_NOTHING = frozenset(
    {
        "",
        "k",
        "ko",
        "khong",
        "khong co",
        "khong co gi",
        "khong y kien",
        "khong co y kien",
        "khong co y kien gi",
        "khong gop y",
        "khong co gop y",
        "no",
        "none",
        "nothing",
        "n a",
        "no comment",
        "ok",
    }
)
# Praise, with or without diacritics (none of them has a different meaning without them).
_PRAISE = (
    "cảm ơn",
    "cám ơn",
    "tốt",
    "hài lòng",
    "nhiệt tình",
    "chu đáo",
    "tận tình",
    "tận tâm",
    "vui vẻ",
    "niềm nở",
    "chuyên nghiệp",
    "nhanh chóng",
    "khen",
    "tuyệt vời",
    "thank",
    "thanks",
    "good",
    "great",
    "excellent",
    "friendly",
    "helpful",
)
_PRAISE_FOLDED = ("cam on", "hai long", "nhiet tinh", "chu dao", "tan tinh", "vui ve")
# A request or complaint in the text makes it feedback, whatever the ratings.
_CONCERN = (
    "nhưng",
    "tuy nhiên",
    "đề nghị",
    "kiến nghị",
    "phản ánh",
    "mong",
    "cần",
    "nên",
    "chậm",
    "lâu",
    "trễ",
    "muộn",
    "không",
    "chưa",
    "phiền",
    "khó",
    "sách nhiễu",
    "tiêu cực",
    "bồi dưỡng",
    "quá hạn",
    "but",
    "however",
    "please",
    "should",
    "slow",
    "late",
    "not",
    "no",
    "wait",
    "problem",
)
# Concerns typed without diacritics that cannot be read as praise ("can" could be "cán bộ").
_CONCERN_FOLDED = (
    "tuy nhien",
    "de nghi",
    "kien nghi",
    "phan anh",
    "khong",
    "chua",
    "qua han",
    "sach nhieu",
    "tieu cuc",
)


def _plain(text: str) -> str:
    """Lower case, NFC, words separated by one space."""
    return " ".join(_WORDS.findall(unicodedata.normalize("NFC", text).lower()))


def _folded(text: str) -> str:
    return _plain(folded(text))


def _has(text: str, phrases: Iterable[str]) -> bool:
    padded = f" {text} "
    return any(f" {phrase} " in padded for phrase in phrases)


def comment_kind(text: str, ratings_all_top: bool) -> str:
    """FEEDBACK, COMPLIMENT or EMPTY for a comment (see the module's rules).

    ``ratings_all_top``: every rating the citizen gave is at the top of the scale (or the top two
    of a five-level one), none low.
    """
    plain, folded = _plain(text), _folded(text)
    if folded in _NOTHING:
        return EMPTY
    if not ratings_all_top or _has(plain, _CONCERN) or _has(folded, _CONCERN_FOLDED):
        return FEEDBACK
    if _has(plain, _PRAISE) or _has(folded, _PRAISE_FOLDED):
        return COMPLIMENT
    return FEEDBACK


@dataclass(frozen=True)
class TriageRule:
    open_compliments: bool = False
    open_anonymous_low: bool = False


def opens_case(
    comment: str | None,
    kind: str,
    low: bool,
    reachable: bool,
    rule: TriageRule,
) -> str | None:
    """The case's reason (comment, low_rating, both), or None when nothing needs handling.

    ``kind``: the comment's (``comment_kind``); ``reachable``: a contact was left or the rating is
    of a dossier. A low rating with a comment to act on is "both", reachable or not.
    """
    actionable_comment = bool(comment) and (
        kind == FEEDBACK or (kind == COMPLIMENT and rule.open_compliments)
    )
    if actionable_comment and low:
        return "both"
    if actionable_comment:
        return "comment"
    if low and (reachable or rule.open_anonymous_low):
        return "low_rating"
    return None
