"""A depth limit that counts every field, introspection included.

Strawberry's ``QueryDepthLimiter`` skips introspection fields by design, which leaves
``__schema { types { fields { type { fields … } } } }`` unbounded. This rule measures the
deepest selection of each operation, following fragment spreads (each fragment measured once),
and reports one error naming the operation.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)

DEPTH_MESSAGE = "exceeds maximum operation depth"


def max_depth_rule(limit: int) -> type[ValidationRule]:
    class MaxDepth(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.fragments: dict[str, FragmentDefinitionNode] = {
                d.name.value: d
                for d in context.document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            depth = self._depth(node.selection_set, set())
            if depth > limit:
                name = node.name.value if node.name else "anonymous"
                self.report_error(
                    GraphQLError(f"'{name}' {DEPTH_MESSAGE} of {limit} (found {depth})", node)
                )

        def _depth(self, selections: SelectionSetNode | None, seen: set[str]) -> int:
            if selections is None:
                return 0
            deepest = 0
            for selection in selections.selections:
                if isinstance(selection, FieldNode):
                    inner = self._depth(selection.selection_set, seen)
                    deepest = max(deepest, 1 + inner if selection.selection_set else 1)
                elif isinstance(selection, InlineFragmentNode):
                    deepest = max(deepest, self._depth(selection.selection_set, seen))
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = self.fragments.get(name)
                    if fragment is not None and name not in seen:
                        deepest = max(deepest, self._depth(fragment.selection_set, seen | {name}))
            return deepest

    return MaxDepth
