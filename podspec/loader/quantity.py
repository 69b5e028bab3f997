"""Kubernetes resource quantities (100m, 0.5, 128Mi, 1G, 1e3) as whole millicores or bytes.

Rounding is up, as Kubernetes' MilliValue()/Value() do: 1n CPU is 1 millicore, 0.5 bytes is 1.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

_SUFFIX = {
    "": Fraction(1), "n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000),
    "k": Fraction(10**3), "M": Fraction(10**6), "G": Fraction(10**9), "T": Fraction(10**12),
    "P": Fraction(10**15), "E": Fraction(10**18),
    "Ki": Fraction(2**10), "Mi": Fraction(2**20), "Gi": Fraction(2**30), "Ti": Fraction(2**40),
    "Pi": Fraction(2**50), "Ei": Fraction(2**60),
}
_QUANTITY = re.compile(r"\+?([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:([eE])([-+]?[0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?")
LIMIT = 2**63 - 1  # what Kubernetes (and Podman) can hold


class QuantityError(ValueError):
    """The text is not a quantity, or it is out of range."""


def parse(value: str | int | float) -> Fraction:
    """The exact value of a quantity; raises QuantityError."""
    if isinstance(value, bool):
        raise QuantityError("not a quantity")
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise QuantityError("not a finite number")
        if value < 0:
            raise QuantityError("must not be negative")
        number = Fraction(repr(value)) if isinstance(value, float) else Fraction(value)
    else:
        match = _QUANTITY.fullmatch(value.strip())
        if match is None:
            raise QuantityError("not a quantity such as 100m, 0.5, 128Mi or 1G")
        digits, exp_mark, exponent, suffix = match.groups()
        number = Fraction(digits)
        if exp_mark:
            power = int(exponent)
            if power > 30:
                raise QuantityError("too large")
            number *= Fraction(10) ** max(power, -30)
        else:
            number *= _SUFFIX[suffix or ""]
    if number > LIMIT:
        raise QuantityError("too large")
    return number


def to_millis(value: str | int | float) -> int:
    """CPU: the quantity in millicores, rounded up."""
    millis = math.ceil(parse(value) * 1000)
    if millis > LIMIT:
        raise QuantityError("too large")
    return millis


def to_bytes(value: str | int | float) -> int:
    """Memory: the quantity in bytes, rounded up."""
    return math.ceil(parse(value))
