"""The shapes every response area shares, and the two bases of the response models.

``Out``: a closed shape.  At run time it forbids unknown fields, so that a field the service
returns but a model does not declare fails the API tests loudly (500) instead of silently
disappearing from the response (FastAPI filters a returned dict through the response model).
The published schema leaves objects open (no ``additionalProperties: false``): docs/verdicts.md
allows fields to be added, and clients must ignore what they do not know.

Key order: pydantic writes a model's fields in declaration order, so each model declares them in
the order the service writes them (the answers stay byte for byte what they were).  ``InOrder``
keeps the incoming order instead, for the few shapes whose order varies with their kind (findings,
a parcel's category assessments, stored documents with sorted keys); it costs a Python call per
object, which is why the numerous shapes (a park's predicates: one fixed-order model per kind)
do without it.

``Open``: a part that is genuinely open-ended (a stored document written by whichever version
made it, the per-kind ``inputs`` of a finding); each use says why in its docstring.

Routes use ``response_model_exclude_unset=True`` (``OUT`` below): a field absent from the
returned dict stays absent, a field returned as null stays null.  Amounts, areas and ratios are
decimal strings, never JSON numbers (Decimal arithmetic; docs/verdicts.md).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, PrivateAttr, model_serializer, model_validator


def _open_schema(schema: dict[str, Any]) -> None:
    schema.pop("additionalProperties", None)


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_open_schema, populate_by_name=True)


def _without_serializer(schema: Any) -> Any:
    if schema.get("type") == "function-wrap" and "schema" in schema:      # the model validator's wrapper
        return {**schema, "schema": _without_serializer(schema["schema"])}
    return {k: v for k, v in schema.items() if k != "serialization"}


class InOrder(BaseModel):
    """Writes its keys in the order they came (a shape whose key order varies with its kind)."""
    # The keys in the order they came: pydantic writes declared fields before extra ones, and
    # the answer must stay byte for byte what the service built.
    _order: tuple[str, ...] = PrivateAttr(default=())

    @model_validator(mode="wrap")
    @classmethod
    def _remember_order(cls, data: Any, handler: Any) -> Any:
        model = handler(data)
        if isinstance(data, dict):
            model._order = tuple(data)
        return model

    @model_serializer(mode="wrap")
    def _in_order(self, handler: Any) -> Any:
        out = handler(self)
        if not self._order or not isinstance(out, dict):
            return out
        return {**{k: out[k] for k in self._order if k in out}, **out}

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> Any:
        # The serializer only reorders keys: document the fields, not an opaque function.
        return handler(_without_serializer(core_schema))


class Open(InOrder):
    model_config = ConfigDict(extra="allow")


# The keyword arguments of every JSON route's decorator besides ``response_model``.
OUT: dict[str, Any] = {"response_model_exclude_unset": True}


class LawPin(InOrder, Out):
    """A law document a decision used (``app.checks.law.pin``): replay reads this version back.
    (Keys in the order stored: sorted in a scoring run's canonical document.)"""
    kind: str
    id: str
    version: str | None
    digest: str


class Quantity(Out):
    """A decimal string with its unit (``{"value": "12.50", "unit": "万元/亩"}``)."""
    value: str
    unit: str


class CountArea(Out):
    count: int
    area: Quantity


class Cite(Out):
    """Where a number or rule comes from: a document id and article (docs/law-documents.md)."""
    doc: str | None = None
    article: str | None = None
    title: str | None = None
    number: str | None = None
    url: str | None = None
    layer: str | None = None
    layer_version: str | None = None


class Industry(Out):
    code: str
    classification: str


class Transferee(Out):
    name: str
    uscc: str


class LayerRef(Out):
    id: str
    version: str
    digest: str
    status: str
    title: str
    jurisdiction: str


class RuleSetRef(Out):
    """The resolved standard-land rule set a decision used, with its layers."""
    id: str
    version: str
    digest: str
    status: str
    title: str
    example: bool
    layers: list[LayerRef]


class RuleSetInForce(Out):
    """A dated rule-set version in force on a date."""
    id: str
    version: str
    digest: str
    status: str
    title: str
    example: bool
    effective_from: str
    effective_to: str | None


class DecisionFields(Out):
    """What the decision log adds to every stored result (``app.store.decisions``), after the
    result's own fields: a model lists it FIRST among its bases (``class X(DecisionFields, XBody)``),
    since pydantic orders the fields of the last base first."""
    decision_id: str
    seq: int
    created_at: str
    prev_hash: str
    hash: str
