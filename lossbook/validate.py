"""Argument checks shared by the public entry points, so that every wrong argument is refused the same way.

Each check raises a ``ValueError`` (a wrong value) or a ``TypeError`` (a wrong kind of thing) whose message
names the argument, what was expected, what was given and, where one is known, how to fix it. Entry points
(``train``, ``plan``, ``load_model``, the samplers, ``evaluate``, the converters) call these once, before any
work, so that a wrong argument never surfaces later as a traceback from inside torch or transformers.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterable, Sequence
from numbers import Real
from pathlib import Path

__all__ = [
    "callables",
    "check_dim",
    "check_max_seq_length",
    "check_texts",
    "did_you_mean",
    "model_with_encode",
    "number",
    "one_of",
    "optional_whole_number",
    "whole_number",
]


def did_you_mean(value, choices: Iterable[str]) -> str:
    """``" Did you mean 'x'?"`` for the closest choice to a mistyped string, or ``""``."""
    if not isinstance(value, str):
        return ""
    close = difflib.get_close_matches(value, list(choices), n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def whole_number(value, name: str, *, minimum: int = 1, fix: str = "") -> int:
    """``value`` as an int >= ``minimum``; bools and floats are refused (``steps=2.5`` is a mistake, not 2)."""
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if not is_int:
        kind = "a whole number" if minimum <= 0 else f"a whole number >= {minimum}"
        raise TypeError(f"{name} must be {kind}, got {value!r} ({type(value).__name__}).{_fix(fix)}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}.{_fix(fix)}")
    return int(value)


def optional_whole_number(value, name: str, *, minimum: int = 1, fix: str = "") -> int | None:
    """``None`` or a whole number >= ``minimum`` (``None`` means "the default")."""
    return None if value is None else whole_number(value, name, minimum=minimum, fix=fix)


def number(
    value,
    name: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
    fix: str = "",
) -> float:
    """``value`` as a finite float within the bounds (``above``: strictly greater than)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__}).{_fix(fix)}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}.{_fix(fix)}")
    if minimum is not None and value < minimum or maximum is not None and value > maximum:
        low = "" if minimum is None else f"{minimum:g}"
        high = "" if maximum is None else f"{maximum:g}"
        wanted = f"between {low} and {high}" if low and high else f"at least {low}" if low else f"at most {high}"
        raise ValueError(f"{name} must be {wanted}, got {value:g}.{_fix(fix)}")
    if above is not None and value <= above:
        raise ValueError(f"{name} must be greater than {above:g}, got {value:g}.{_fix(fix)}")
    return value


def one_of(value, name: str, choices: Iterable[str]) -> str:
    """``value`` when it is one of ``choices``; otherwise a ValueError listing them (and the closest)."""
    choices = list(choices)
    if value in choices:
        return value
    listed = ", ".join(repr(choice) for choice in choices)
    raise ValueError(f"{name} must be one of {listed}; got {value!r}.{did_you_mean(value, choices)}")


def callables(value, name: str) -> list[Callable]:
    """A list of functions: ``None`` is none; a lone function is refused with the fix (wrap it in a list)."""
    if value is None:
        return []
    if callable(value):
        shown = _name(value) if _name(value).isidentifier() else "fn"
        raise TypeError(
            f"{name} takes a list of functions, got a single function ({_name(value)}); wrap it in a list: "
            f"{name}=[{shown}]."
        )
    try:
        items = list(value)
    except TypeError:
        raise TypeError(f"{name} takes a list of functions, got {type(value).__name__}.") from None
    wrong = [f"#{i} is {type(item).__name__}" for i, item in enumerate(items) if not callable(item)]
    if wrong:
        raise TypeError(
            f"Every item of {name} must be a function (called as fn(step, history)); {', '.join(wrong[:5])}."
        )
    return items


def model_with_encode(model, where: str) -> None:
    """Refuse a model *name* (a ``str`` has an ``.encode`` too) or anything without ``.encode(texts)``."""
    if isinstance(model, (str, Path)):
        raise TypeError(
            f"{where} needs a loaded model, got the name {str(model)!r}. Load it first: "
            f"model = lossbook.load_model({str(model)!r}) (or sentence_transformers.SentenceTransformer(...))."
        )
    if not callable(getattr(model, "encode", None)):
        raise TypeError(
            f"{where} needs a model with .encode(texts) (lossbook.load_model() or a SentenceTransformer), "
            f"got {type(model).__name__}."
        )


def check_max_seq_length(value, positions: int | None = None) -> int:
    """A positive whole number of tokens, within the model's position embeddings when they are known.

    0 and negative lengths are refused rather than read as "the default" or passed to the tokenizer
    (which fails with an OverflowError); more tokens than the position embeddings fail inside the model.
    """
    fix = "Pass a positive number of tokens (e.g. 128), or None for the model's own setting."
    value = whole_number(value, "max_seq_length", fix=fix)
    if positions is not None and value > positions:
        raise ValueError(
            f"max_seq_length={value} exceeds the model's {positions} position embeddings, so longer texts would fail "
            f"inside the model. Use at most {positions}."
        )
    return value


def check_texts(texts: Sequence[str]) -> list[str]:
    """The texts to embed as a list of str, refused with the reason when they are not."""
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, Sequence) and not hasattr(texts, "__iter__"):
        raise TypeError(f"Expected a list of strings, got {type(texts).__name__}.")
    texts = list(texts)
    if not texts:
        raise ValueError("Expected at least one text, got an empty list.")
    bad = [(i, type(t).__name__) for i, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        shown = ", ".join(f"#{i} is {kind}" for i, kind in bad[:5])
        raise TypeError(
            f"Expected every item to be a str; {len(bad)} are not ({shown}). Convert them with str() first."
        )
    return texts


def check_dim(dim: int, model_dim: int) -> None:
    """A Matryoshka dim: an int in 1..the model's embedding size."""
    if not isinstance(dim, int) or isinstance(dim, bool) or not 0 < dim <= model_dim:
        raise ValueError(f"dim must be an int in 1..{model_dim} (the model's embedding size), got {dim!r}.")


def _fix(fix: str) -> str:
    return f" {fix}" if fix else ""


def _name(function) -> str:
    return getattr(function, "__name__", type(function).__name__)
