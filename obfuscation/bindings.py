"""Bindings (declared names with all their uses) and a block-scope walker the resolvers share."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tree_sitter import Node

from .source import Source

WORD = re.compile(rb"[A-Za-z_][A-Za-z_0-9]*")


@dataclass(eq=False)
class Binding:
    """One declared name: how it was declared and every identifier node that means it."""

    name: str
    kind: str  # local, parameter, global, function, field, enumerator, import, class_member
    declaration: Node
    occurrences: list[Node] = field(default_factory=list)


@dataclass
class Resolution:
    bindings: list[Binding]
    poisoned: set[str]  # names seen where the resolver cannot follow them: never renamed
    by_position: dict[tuple[int, int], Binding]
    sites: set[tuple[int, int]] = field(default_factory=set)  # Python: where names are assigned

    def binding_of(self, identifier: Node) -> Binding | None:
        return self.by_position.get((identifier.start_byte, identifier.end_byte))


class ScopeWalker:
    """Walks a tree in source order keeping a stack of block scopes; language resolvers
    say which nodes open scopes and what each identifier does."""

    def __init__(self, source: Source):
        self.source = source
        self.scopes: list[dict[str, Binding]] = []
        self.bindings: list[Binding] = []
        self.poisoned: set[str] = set()
        self.by_position: dict[tuple[int, int], Binding] = {}

    def resolve(self) -> Resolution:
        stack: list[tuple[Node, bool]] = [(self.source.root, False)]
        while stack:
            node, leaving = stack.pop()
            if leaving:
                self.scopes.pop()
                continue
            if node.is_error:
                self.poison_words(node)
                continue
            if self.visit(node):
                continue
            if self.opens_scope(node):
                self.scopes.append({})
                self.hoist(node)
                stack.append((node, True))
            if node.type == "identifier":
                self.identifier(node)
            stack.extend((child, False) for child in reversed(node.children))
        return Resolution(self.bindings, self.poisoned, self.by_position)

    # Hooks for the language resolvers.
    def visit(self, node: Node) -> bool:
        """Handle ``node`` specially; True when its subtree must not be walked."""
        return False

    def opens_scope(self, node: Node) -> bool:
        raise NotImplementedError

    def hoist(self, scope_owner: Node) -> None:
        """Declare names visible in the whole scope before walking it."""

    def identifier(self, node: Node) -> None:
        raise NotImplementedError

    # Helpers.
    def declare(self, name_node: Node, kind: str, declaration: Node, depth: int = -1) -> Binding:
        name = self.source.text_of(name_node)
        scope = self.scopes[depth]
        binding = scope.get(name)
        if binding is None:
            binding = Binding(name, kind, declaration)
            scope[name] = binding
            self.bindings.append(binding)
        self._record(binding, name_node)
        return binding

    def reference(self, name_node: Node) -> Binding | None:
        name = self.source.text_of(name_node)
        for scope in reversed(self.scopes):
            if name in scope:
                self._record(scope[name], name_node)
                return scope[name]
        return None

    def poison_words(self, node: Node) -> None:
        self.poisoned.update(w.decode() for w in WORD.findall(self.source.data[node.start_byte : node.end_byte]))

    def _record(self, binding: Binding, name_node: Node) -> None:
        key = (name_node.start_byte, name_node.end_byte)
        if key not in self.by_position:
            binding.occurrences.append(name_node)
            self.by_position[key] = binding
