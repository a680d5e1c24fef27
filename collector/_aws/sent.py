"""The collector's own check of what it sends to AppFlow, in place of botocore's.

botocore validates every request's parameters against the service model before it
serializes them (`parameter_validation`): it walks the shapes afresh on each call, about
1.5% of a run's CPU for requests that differ only by `nextToken`. The AppFlow clients turn it
off (`parameter_validation=False`, a documented `Config` option) and call through
`checked_method` instead, which enforces the same rules from the same model, compiled once
per operation: no unknown parameter, every required one, each value of its shape's type,
and at least its shape's minimum (length or value). A request that breaks one raises
botocore's own `ParamValidationError`, so errors read and count as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore import xform_name
from botocore.exceptions import ParamValidationError
from botocore.model import ListShape, Shape, StructureShape

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "long": (int,),
    "boolean": (bool,),
    "list": (list, tuple),
    "structure": (dict,),
    "map": (dict,),
}


@dataclass(frozen=True, slots=True)
class _Member:
    """One input shape member's rules."""

    type_name: str
    types: tuple[type, ...]
    minimum: int | None
    item: _Member | None = None

    def problem(self, name: str, given: object) -> str | None:
        """What is wrong with `given` for the parameter `name` (None: nothing)."""
        number = self.type_name in ("integer", "long")
        if not isinstance(given, self.types):
            return f"Invalid type for parameter {name}, value: {given!r}, type: {type(given)}"
        value: Any = given
        size: int = value if number else len(value)
        if self.minimum is not None and size < self.minimum:
            return (
                f"Invalid value for parameter {name}, value: {value!r}, valid min: {self.minimum}"
            )
        if self.item is not None:
            for index, item in enumerate(value):
                found = self.item.problem(f"{name}[{index}]", item)
                if found:
                    return found
        return None


def _member(shape: Shape) -> _Member:
    types = _TYPES.get(shape.type_name)
    if types is None:
        # A shape the collector never sends (blob, timestamp...): checked by botocore's rules
        # only if it ever is, so refuse to compile a check that would let it through.
        raise TypeError(f"no check for {shape.type_name} parameters")
    item = _member(shape.member) if isinstance(shape, ListShape) else None
    minimum = shape.metadata.get("min")
    return _Member(shape.type_name, types, minimum, item)


@dataclass(frozen=True, slots=True)
class RequestCheck:
    """The rules of one operation's input."""

    members: Mapping[str, _Member]
    required: frozenset[str]

    @classmethod
    def of(cls, shape: StructureShape | None) -> RequestCheck:
        if shape is None:
            return cls({}, frozenset())
        members = {name: _member(member) for name, member in shape.members.items()}
        return cls(members, frozenset(shape.required_members))

    def problems(self, request: Mapping[str, Any]) -> list[str]:
        """What is wrong with `request` (empty: nothing)."""
        found = [
            f"Missing required parameter in input: {name!r}"
            for name in sorted(self.required - request.keys())
        ]
        for name, value in request.items():
            member = self.members.get(name)
            if member is None:
                found.append(f"Unknown parameter in input: {name!r}")
                continue
            problem = member.problem(name, value)
            if problem:
                found.append(problem)
        return found

    def check(self, request: Mapping[str, Any]) -> None:
        """Raise botocore's `ParamValidationError` if `request` breaks a rule."""
        problems = self.problems(request)
        if problems:
            raise ParamValidationError(report="\n".join(problems))


_CHECKS: dict[tuple[str, str], RequestCheck] = {}


def request_check(client: Any, operation: str) -> RequestCheck:
    """The check of `operation`'s input, compiled once per service and operation."""
    model = client.meta.service_model
    key = (model.service_name, operation)
    check = _CHECKS.get(key)
    if check is None:
        check = _CHECKS[key] = RequestCheck.of(model.operation_model(operation).input_shape)
    return check


def checked_method(client: Any, operation: str) -> Callable[..., Any]:
    """The client's method of `operation` (`ListFlows` -> `client.list_flows`), checking
    each request first."""
    method = getattr(client, xform_name(operation))
    check = request_check(client, operation)

    def call(**request: Any) -> Any:
        check.check(request)
        return method(**request)

    return call
