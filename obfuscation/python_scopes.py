"""Name resolution for Python: function, class, comprehension and module scopes (LEGB)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tree_sitter import Node

from .bindings import WORD, Binding, Resolution
from .source import Source, nodes_of_type

COMPREHENSIONS = frozenset(
    {
        "list_comprehension",
        "set_comprehension",
        "dictionary_comprehension",
        "generator_expression",
    }
)
TARGET_CONTAINERS = frozenset(
    {
        "pattern_list",
        "tuple_pattern",
        "list_pattern",
        "tuple",
        "list",
        "parenthesized_expression",
        "list_splat_pattern",
        "list_splat",
        "expression_list",
    }
)
# Calls that read or write variables by name: their scopes keep every name.
INTROSPECTION = frozenset({"locals", "vars", "eval", "exec", "dir"})
OPAQUE_STATEMENTS = frozenset({"match_statement", "type_alias_statement", "type_parameter"})
KEPT_NAMES = frozenset({"self", "cls"})


@dataclass(eq=False)
class Scope:
    kind: str  # module, function, class, comprehension
    parent: Scope | None
    node: Node
    sites: list[tuple[Node, str]] = field(default_factory=list)
    globals: set[str] = field(default_factory=set)
    nonlocals: set[str] = field(default_factory=set)
    bindings: dict[str, Binding] = field(default_factory=dict)
    opaque: bool = False


class PythonResolver:
    def __init__(self, source: Source):
        self.source = source
        self.module = Scope("module", None, source.root)
        self.scopes = [self.module]
        self.references: list[tuple[Node, Scope]] = []
        self.declared_globals: list[tuple[Node, Scope]] = []
        self.keyword_names: set[str] = set()
        self.poisoned: set[str] = set()
        self.by_position: dict[tuple[int, int], Binding] = {}

    def resolve(self) -> Resolution:
        work = [(self.source.root, self.module)]
        while work:
            node, scope = work.pop()
            work.extend(reversed(self._visit(node, scope)))
        self._create_bindings()
        for identifier, scope in self.references + self.declared_globals:
            binding = self._lookup(self.source.text_of(identifier), scope)
            if binding is not None:
                self._record(binding, identifier)
        bindings = [b for s in self.scopes for b in s.bindings.values()]
        sites = {(i.start_byte, i.end_byte) for s in self.scopes for i, _ in s.sites}
        return Resolution(bindings, self.poisoned, self.by_position, sites)

    def renamable(self) -> list[Binding]:
        strings = {
            w.decode()
            for s in nodes_of_type(self.source.root, "string")
            for w in WORD.findall(self.source.data[s.start_byte : s.end_byte])
        }
        # A class body looks names up at run time (``x = x`` reads the module's ``x``).
        class_names = {name for scope in self.scopes if scope.kind == "class" for name in scope.bindings}
        found = []
        for scope in self.scopes:
            if scope.opaque or scope.kind == "class":
                continue
            for binding in scope.bindings.values():
                name = binding.name
                if (
                    name in self.poisoned
                    or name in class_names
                    or binding.kind == "import"
                    or (name.startswith("__") and name.endswith("__"))
                ):
                    continue
                if scope.kind == "module" and name in strings:
                    continue
                if binding.kind == "parameter" and (name in KEPT_NAMES or name in self.keyword_names):
                    continue
                found.append(binding)
        return found

    # Pass 1: scopes, binding sites and references.
    def _visit(self, node: Node, scope: Scope) -> list[tuple[Node, Scope]]:
        kind = node.type
        if node.is_error or kind in OPAQUE_STATEMENTS:
            self._poison(node)
            return []
        if kind == "function_definition":
            return self._function(node, scope)
        if kind == "lambda":
            return self._lambda(node, scope)
        if kind == "class_definition":
            self._site(node.child_by_field_name("name"), scope, "definition")
            inner = self._new_scope("class", scope, node)
            return [(c, scope) for c in node.children_by_field_name("superclasses")] + [
                (node.child_by_field_name("body"), inner)
            ]
        if kind in COMPREHENSIONS:
            return self._comprehension(node, scope)
        if kind in ("assignment", "augmented_assignment", "for_statement"):
            return self._target(node.child_by_field_name("left"), scope) + [
                (c, scope) for c in node.named_children if not _is_child(node, c, "left")
            ]
        if kind == "as_pattern":
            alias = node.child_by_field_name("alias")
            return [(c, scope) for c in node.named_children if c != alias] + [
                pair for c in (alias.named_children if alias else []) for pair in self._target(c, scope)
            ]
        if kind == "named_expression":
            self._site(node.child_by_field_name("name"), _non_comprehension(scope), "local")
            return [(node.child_by_field_name("value"), scope)]
        if kind == "delete_statement":
            return [pair for c in node.named_children for pair in self._target(c, scope)]
        if kind in ("import_statement", "import_from_statement"):
            self._imports(node, scope)
            return []
        if kind == "future_import_statement":
            return []
        if kind in ("global_statement", "nonlocal_statement"):
            names = scope.globals if kind == "global_statement" else scope.nonlocals
            for identifier in node.named_children:
                names.add(self.source.text_of(identifier))
                self.declared_globals.append((identifier, scope))
            return []
        if kind == "call":
            self._check_introspection(node, scope)
        if kind == "identifier":
            self._identifier(node, scope)
            return []
        return [(c, scope) for c in node.children]

    def _function(self, node: Node, scope: Scope) -> list[tuple[Node, Scope]]:
        self._site(node.child_by_field_name("name"), scope, "definition")
        inner = self._new_scope("function", scope, node)
        work = self._parameters(node.child_by_field_name("parameters"), inner, scope)
        for name in ("return_type", "type_parameters"):
            work += [(c, scope) for c in node.children_by_field_name(name)]
        return work + [(node.child_by_field_name("body"), inner)]

    def _lambda(self, node: Node, scope: Scope) -> list[tuple[Node, Scope]]:
        inner = self._new_scope("function", scope, node)
        return self._parameters(node.child_by_field_name("parameters"), inner, scope) + [
            (node.child_by_field_name("body"), inner)
        ]

    def _parameters(self, parameters: Node | None, inner: Scope, outer: Scope) -> list[tuple[Node, Scope]]:
        """Bind parameter names in ``inner``; defaults and annotations run in ``outer``.
        Keyword-only parameters (after ``*`` or ``*args``) keep their names: callers must spell them."""
        work = []
        keyword_only = False
        for parameter in parameters.named_children if parameters else []:
            if keyword_only:
                self.keyword_names.update(
                    self.source.text_of(n) for n in parameter.named_children if n.type == "identifier"
                )
                if parameter.type == "identifier":
                    self.keyword_names.add(self.source.text_of(parameter))
            if parameter.type == "keyword_separator" or any(
                n.type == "list_splat_pattern" for n in (parameter, *parameter.named_children)
            ):
                keyword_only = True
            if parameter.type in ("identifier", "list_splat_pattern", "dictionary_splat_pattern"):
                self._parameter_names(parameter, inner)
            elif parameter.type in ("default_parameter", "typed_default_parameter"):
                self._site(parameter.child_by_field_name("name"), inner, "parameter")
                work += [
                    (parameter.child_by_field_name(f), outer)
                    for f in ("type", "value")
                    if parameter.child_by_field_name(f) is not None
                ]
            elif parameter.type == "typed_parameter":
                for child in parameter.named_children:
                    if child.type == "type":
                        work.append((child, outer))
                    else:
                        self._parameter_names(child, inner)
            else:
                work.append((parameter, outer))
        return work

    def _parameter_names(self, node: Node, inner: Scope) -> None:
        """``x``, ``*args`` or ``**kwargs``."""
        for identifier in [node] if node.type == "identifier" else node.named_children:
            self._site(identifier, inner, "parameter")

    def _comprehension(self, node: Node, scope: Scope) -> list[tuple[Node, Scope]]:
        inner = self._new_scope("comprehension", scope, node)
        work, first = [], True
        for child in node.named_children:
            if child.type != "for_in_clause":
                work.append((child, inner))
                continue
            work += self._target(child.child_by_field_name("left"), inner)
            work += [(c, scope if first else inner) for c in child.children_by_field_name("right")]
            first = False
        return work

    def _target(self, node: Node | None, scope: Scope) -> list[tuple[Node, Scope]]:
        """Bind the names an assignment target assigns; return the parts that are only read."""
        if node is None:
            return []
        if node.type == "identifier":
            self._site(node, scope, "local")
            return []
        if node.type in TARGET_CONTAINERS:
            return [pair for c in node.named_children for pair in self._target(c, scope)]
        return [(node, scope)]

    def _imports(self, node: Node, scope: Scope) -> None:
        for name in node.children_by_field_name("name"):
            if name.type == "aliased_import":
                self._site(name.child_by_field_name("alias"), scope, "import")
            elif name.named_children:
                self._site(name.named_children[0], scope, "import")

    def _check_introspection(self, call: Node, scope: Scope) -> None:
        function = call.child_by_field_name("function")
        if function is None or function.type != "identifier":
            return
        name = self.source.text_of(function)
        if name == "globals":
            self.module.opaque = True
        elif name in INTROSPECTION:
            current = scope
            while current is not None:
                current.opaque = current.opaque or current.kind != "module" or name in ("eval", "exec")
                current = current.parent

    def _identifier(self, node: Node, scope: Scope) -> None:
        parent = node.parent
        if parent.type == "attribute" and _is_child(parent, node, "attribute"):
            return
        if parent.type == "keyword_argument" and _is_child(parent, node, "name"):
            self.keyword_names.add(self.source.text_of(node))
            return
        self.references.append((node, scope))

    def _new_scope(self, kind: str, parent: Scope, node: Node) -> Scope:
        scope = Scope(kind, parent, node)
        self.scopes.append(scope)
        return scope

    def _site(self, identifier: Node | None, scope: Scope, kind: str) -> None:
        if identifier is not None and identifier.type == "identifier":
            scope.sites.append((identifier, kind))

    def _poison(self, node: Node) -> None:
        self.poisoned.update(w.decode() for w in WORD.findall(self.source.data[node.start_byte : node.end_byte]))

    # Pass 2: bindings in the scopes that own them, then references.
    def _create_bindings(self) -> None:
        for scope in self.scopes:
            for identifier, site_kind in scope.sites:
                name = self.source.text_of(identifier)
                owner = self._owner(name, scope)
                if owner is None:
                    self.poisoned.add(name)
                    continue
                binding = owner.bindings.get(name)
                if binding is None:
                    binding = Binding(name, _binding_kind(owner, site_kind), identifier)
                    owner.bindings[name] = binding
                if site_kind == "import":
                    binding.kind = "import"
                self._record(binding, identifier)

    def _owner(self, name: str, scope: Scope) -> Scope | None:
        if name in scope.globals:
            return self.module
        if name not in scope.nonlocals:
            return scope
        outer = scope.parent
        while outer is not None and outer.kind != "module":
            if outer.kind == "function" and any(self.source.text_of(i) == name for i, _ in outer.sites):
                return outer
            outer = outer.parent
        return None

    def _lookup(self, name: str, scope: Scope) -> Binding | None:
        current, first = scope, True
        while current is not None:
            if name in current.globals:
                return self.module.bindings.get(name)
            if (first or current.kind != "class") and name in current.bindings:
                return current.bindings[name]
            current, first = current.parent, False
        return None

    def _record(self, binding: Binding, identifier: Node) -> None:
        key = (identifier.start_byte, identifier.end_byte)
        if key not in self.by_position:
            self.by_position[key] = binding
            binding.occurrences.append(identifier)


def _binding_kind(owner: Scope, site_kind: str) -> str:
    if site_kind == "import":
        return "import"
    if owner.kind == "class":
        return "class_member"
    if owner.kind == "module":
        return "global"
    return "parameter" if site_kind == "parameter" else "local"


def _non_comprehension(scope: Scope) -> Scope:
    while scope.kind == "comprehension" and scope.parent is not None:
        scope = scope.parent
    return scope


def _is_child(parent: Node, child: Node, field_name: str) -> bool:
    return any(c == child for c in parent.children_by_field_name(field_name))


def resolve(source: Source) -> tuple[Resolution, list[Binding]]:
    resolver = PythonResolver(source)
    resolution = resolver.resolve()
    return resolution, resolver.renamable()
