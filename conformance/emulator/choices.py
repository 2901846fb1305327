"""The emulator's choices inside the sources' freedom (`Behaviour`'s last section), applied to
the spec it serves from, once, at start-up.

`apply(spec, behaviour)` returns the spec the emulator answers from: each gateway situation's
chosen variant first (the gateway and the handlers answer the first), and, with
`reworded_messages`, every message no source gives worded otherwise (`ErrorVariant.message` is
None: only the emulator's own wording, `emulator_message`, changes). A message a source gives
(the document's rows, the DryRun message, SignatureDoesNotMatch's colon) is never touched.
"""

from __future__ import annotations

from dataclasses import replace

from conformance.emulator.behaviour import Behaviour
from conformance.spec.model import ErrorVariant, Spec

__all__ = ["apply", "reworded"]


def reworded(variant: ErrorVariant) -> ErrorVariant:
    """`variant` with another wording of its message, where no source gives the text (its
    `{Field}` placeholders are kept, so the message still names what was wrong)."""
    if variant.message is not None:
        return variant
    fields = [part for part in variant.emulator_message.split("{")[1:] if "}" in part]
    named = " ".join("{" + part.split("}")[0] + "}" for part in fields)
    text = f"Request refused: {variant.code}" + (f" ({named})." if named else ".")
    return replace(variant, emulator_message=text)


def apply(spec: Spec, behaviour: Behaviour) -> Spec:
    """The spec the emulator answers from under `behaviour`'s choices (`spec` itself when it
    makes none)."""
    chosen = dict(behaviour.gateway_variants)
    if not chosen and not behaviour.reworded_messages:
        return spec
    errors: dict[str, tuple[ErrorVariant, ...]] = {}
    for situation, variants in spec.gateway_errors.items():
        index = chosen.get(situation, 0)
        if not 0 <= index < len(variants):
            raise ValueError(f"{situation} has {len(variants)} variant(s), not {index + 1}")
        ordered = (variants[index], *variants[:index], *variants[index + 1 :])
        if behaviour.reworded_messages:
            ordered = tuple(reworded(v) for v in ordered)
        errors[situation] = ordered
    return replace(spec, gateway_errors=errors)
