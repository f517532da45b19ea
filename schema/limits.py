"""Depth and alias limits whose cost is linear in the document, however its fragments spread.

Both limits follow fragment spreads, and both measure each fragment once per document
(memoised): a fragment spread twice per level, twenty levels deep, is 2**20 paths but only
twenty fragments, and measuring every path is how one small document once held the CPU for
seconds. Strawberry's ``QueryDepthLimiter`` and ``MaxAliasesLimiter`` walk every path, so
these rules replace them.

* Depth is the deepest selection of each operation. Introspection (``__schema``, ``__type``)
  counts as one level: its inside is bounded by graphql-core's ``MaxIntrospectionDepthRule``,
  which limits the nesting of ``fields``, ``interfaces``, ``possibleTypes`` and
  ``inputFields`` (what makes an introspection query explode) rather than the ``ofType``
  chain, whose nine levels every standard introspection query has.
* Aliases are counted as they would execute: a fragment's aliases once per spread.

The walk uses an explicit stack, so a long chain of fragments cannot exhaust the recursion
limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)

DEPTH_MESSAGE = "exceeds maximum operation depth"
#: Fields whose inside ``MaxIntrospectionDepthRule`` bounds instead of the depth limit.
INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})


@dataclass(slots=True)
class Measure:
    """What a selection set costs: its deepest selection and the aliases it executes."""

    depth: int = 0
    aliases: int = 0


@dataclass(slots=True)
class _Frame:
    selections: Iterator[SelectionNode]
    #: Levels this selection set adds to its parent's depth: 1 under a field, 0 for a
    #: fragment; ``None`` under an introspection root (counted as one level, whatever it holds).
    adds: int | None
    fragment: str | None = None
    measure: Measure = field(default_factory=Measure)


class DocumentMeter:
    """Measures the selection sets of one document, each fragment once."""

    def __init__(self, document: DocumentNode) -> None:
        self.fragments: dict[str, FragmentDefinitionNode] = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self._measured: dict[str, Measure] = {}
        self._open: set[str] = set()

    def measure(self, selection_set: SelectionSetNode) -> Measure:
        stack = [_Frame(iter(selection_set.selections), adds=0)]
        while True:
            frame = stack[-1]
            selection = next(frame.selections, None)
            if selection is None:
                stack.pop()
                if frame.fragment is not None:
                    self._open.discard(frame.fragment)
                    self._measured[frame.fragment] = frame.measure
                if not stack:
                    return frame.measure
                parent = stack[-1].measure
                adds = frame.adds
                inner = 1 if adds is None else adds + frame.measure.depth
                parent.depth = max(parent.depth, inner)
                parent.aliases += frame.measure.aliases
            elif isinstance(selection, FieldNode):
                if selection.alias is not None:
                    frame.measure.aliases += 1
                if selection.selection_set is None:
                    frame.measure.depth = max(frame.measure.depth, 1)
                else:
                    introspection = selection.name.value in INTROSPECTION_ROOTS
                    stack.append(
                        _Frame(
                            iter(selection.selection_set.selections), None if introspection else 1
                        )
                    )
            elif isinstance(selection, InlineFragmentNode):
                stack.append(_Frame(iter(selection.selection_set.selections), adds=0))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                known = self._measured.get(name)
                if known is not None:
                    frame.measure.depth = max(frame.measure.depth, known.depth)
                    frame.measure.aliases += known.aliases
                    continue
                fragment = self.fragments.get(name)
                # An unknown fragment or a cycle is reported by graphql-core's own rules
                # (KnownFragmentNames, NoFragmentCycles); here it adds nothing.
                if fragment is None or name in self._open:
                    continue
                self._open.add(name)
                stack.append(_Frame(iter(fragment.selection_set.selections), adds=0, fragment=name))


def limits_rule(*, max_depth: int, max_aliases: int) -> type[ValidationRule]:
    """One rule for both limits, so one meter measures each fragment once for both: an
    error per operation deeper than ``max_depth`` (naming it), and one if the document's
    operations execute more than ``max_aliases`` aliases (worded as strawberry's
    ``MaxAliasesLimiter``, whose wording the error policy recognises)."""

    class DocumentLimits(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            meter = DocumentMeter(context.document)
            aliases = 0
            for node in context.document.definitions:
                if not isinstance(node, OperationDefinitionNode):
                    continue
                measure = meter.measure(node.selection_set)
                aliases += measure.aliases
                if measure.depth > max_depth:
                    name = node.name.value if node.name else "anonymous"
                    message = f"'{name}' {DEPTH_MESSAGE} of {max_depth} (found {measure.depth})"
                    context.report_error(GraphQLError(message, node))
            if aliases > max_aliases:
                context.report_error(
                    GraphQLError(f"{aliases} aliases found. Allowed: {max_aliases}")
                )

    return DocumentLimits
