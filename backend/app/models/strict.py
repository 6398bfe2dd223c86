"""Request types parsed as strictly as the OpenAPI schema states them.

pydantic's lax mode took `"trading_enabled": 0` as false, `"quantity": "100"` as 100 and
`since=0.5` as a Unix timestamp, none of which the schema (boolean, integer, date-time)
allows: the fuzz reported them as schema-violating requests accepted. These types refuse
them; they are for request models and parameters (responses are built by us).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, GetCoreSchemaHandler, GetJsonSchemaHandler, Strict
from pydantic_core import core_schema


def _json_integer(value: Any) -> Any:
    # JSON Schema calls 100.0 an integer; "100", true and 100.5 it does not.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# Put these after the Field(...) in one flat Annotated (`Annotated[int, Field(gt=0), *STRICT_INT]`
# spelled out): nested Annotated aliases lose the bounds from the JSON schema.
JSON_INT = BeforeValidator(_json_integer)
STRICT = Strict()  # for floats too: a JSON integer is still a number
StrictBool = Annotated[bool, Strict()]

# The forms normalize_code reads (600519, SH600519, sh.600519, 600519.SH, 600519.XSHG); a code
# of this form may still be refused as INVALID_STOCK_CODE (no such code range, a B share).
STOCK_CODE_PATTERN = r"^ *([A-Za-z]{2}\.?)?[0-9]{6}(\.[A-Za-z]{2,4})? *$"

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _iso(pattern: re.Pattern[str], what: str) -> Any:
    def check(value: Any) -> Any:
        if isinstance(value, date):
            return value
        if not isinstance(value, str) or not pattern.match(value):
            raise ValueError(f"expected an ISO 8601 {what} string")  # not a Unix timestamp
        return value

    return check


IsoDateTime = Annotated[datetime, BeforeValidator(_iso(_ISO_DATETIME, "date-time"))]
IsoDate = Annotated[date, BeforeValidator(_iso(_ISO_DATE, "date"))]


@dataclass(frozen=True, slots=True)
class DecimalRule:
    """`Annotated[Decimal, DecimalRule(le=...)]`: a request Decimal whose schema says exactly
    what it accepts: a JSON number within the bounds, or a plain decimal string of at most as
    many integer digits as `le` has (no booleans, no "1e5", no " 1.5 ", which lax Decimal
    took). `places` rounds half up instead of refusing extra decimals; None keeps them (a
    price: the tick check refuses 10.001 with INVALID_PRICE; rounding would change the order)."""

    le: int  # a power of ten
    positive: bool = False
    signed: bool = False
    places: int | None = 4

    def _pattern(self) -> str:
        # `le` is a power of ten, 10**k: any k-digit integer part, or exactly 10**k.
        k = len(str(self.le)) - 1
        top = rf"1(0){{{k}}}(\.0+)?"
        if self.positive:
            body = rf"0*([1-9][0-9]{{0,{k - 1}}}(\.[0-9]+)?|0?\.[0-9]*[1-9][0-9]*|{top})"
            return rf"^\+?{body}$"
        body = rf"([0-9]{{1,{k}}}(\.[0-9]+)?|{top})"
        return rf"^[+-]?{body}$" if self.signed else rf"^\+?{body}$"

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> Any:
        shape = re.compile(self._pattern())

        def as_stated(value: Any) -> Any:
            if isinstance(value, bool) or (isinstance(value, str) and not shape.match(value)):
                raise ValueError("expected a number or a plain decimal string")
            return value

        bound = Decimal(self.le)
        inner = core_schema.decimal_schema(
            le=bound,
            gt=Decimal(0) if self.positive else None,
            ge=None if self.positive else (-bound if self.signed else Decimal(0)),
            allow_inf_nan=False,
        )
        schema = core_schema.no_info_before_validator_function(as_stated, inner)
        places = self.places
        step = Decimal(1).scaleb(-(places or 0))

        def plain(v: Decimal) -> Decimal:
            # 1e16 (a JSON number) is Decimal('1E+16'), which serializes as "1E+16", not the
            # plain string the schema states: give it a zero exponent. Past `places`
            # decimals, round half up (50000 stays 50000; 1.23456 -> 1.2346).
            exponent = v.as_tuple().exponent
            if not isinstance(exponent, int):
                return v
            if exponent > 0:
                return v.quantize(Decimal(1))
            if places is not None and exponent < -places:
                return v.quantize(step, rounding=ROUND_HALF_UP)
            return v

        return core_schema.no_info_after_validator_function(plain, schema)

    def __get_pydantic_json_schema__(self, schema: Any, handler: GetJsonSchemaHandler) -> Any:
        number: dict[str, Any] = {"type": "number", "maximum": self.le}
        if self.positive:
            number["exclusiveMinimum"] = 0
        else:
            number["minimum"] = -self.le if self.signed else 0
        return {"anyOf": [number, {"type": "string", "pattern": self._pattern()}]}
