"""YAML from files a user points glm at, parsed with bounds: nesting depth and size once aliases are expanded.

Anchors and aliases stay allowed: sharing a block between profiles (`<<: *base`) is what they are for in a
config. What is refused is what no config needs: a document nested deeper than MAX_DEPTH (PyYAML's composer
recurses, so 100k levels are a RecursionError) or one whose aliases expand to more than MAX_NODES values (a
"billion laughs" bomb loads as shared references in no time, then hangs whatever walks it: a check, a repr,
`glm config show`). A value PyYAML cannot construct (`2001-13-45`, a 5000-digit integer) is refused too.
"""

from __future__ import annotations

from typing import Any

MAX_DEPTH = 100
MAX_NODES = 100_000


class YamlError(ValueError):
    """YAML text that is invalid or beyond a bound; the message says why (and where, when known)."""


def load_yaml(text: str, as_written: tuple[str, ...] = ()) -> Any:
    """Parse one YAML document like yaml.safe_load, within the bounds; raise YamlError.

    The value of a key named in AS_WRITTEN (an argv list, an environment mapping), wherever it is, keeps its
    scalars as the strings written: `[echo, yes, 010]` is `["echo", "yes", "010"]`, not `["echo", True, 8]`.
    """
    import yaml

    loader = None
    try:
        loader = _loader()(text)  # checks the characters already
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expanded(node)
        if as_written:
            _keep_as_written(node, set(as_written))
        return loader.construct_document(node)
    except YamlError:
        raise
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise YamlError(f"{_where(mark)}invalid YAML: {problem}") from None
    except (ValueError, OverflowError) as exc:  # a scalar PyYAML resolved but cannot build
        raise YamlError(f"invalid YAML value: {exc}") from None
    finally:
        if loader is not None:
            loader.dispose()


def _where(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""


_LOADER: Any = None


def _loader() -> Any:
    """Return (once) a SafeLoader whose composer stops at MAX_DEPTH levels."""
    global _LOADER
    if _LOADER is None:
        import yaml

        class BoundedLoader(yaml.SafeLoader):
            depth = 0

            def compose_node(self, parent: Any, index: Any) -> Any:
                if self.depth >= MAX_DEPTH:
                    where = _where(self.peek_event().start_mark)
                    raise YamlError(f"{where}nested deeper than {MAX_DEPTH} levels")
                self.depth += 1
                try:
                    return super().compose_node(parent, index)
                finally:
                    self.depth -= 1

        _LOADER = BoundedLoader
    return _LOADER


def _keep_as_written(root: Any, keys: set[str]) -> None:
    """Tag the scalars in the list or mapping under each mapping key in KEYS as strings: their text as written."""
    import yaml

    str_tag = "tag:yaml.org,2002:str"

    def as_text(node: Any) -> None:  # a bare scalar (`command: npx`, `env:`) keeps its type: its check says more
        if isinstance(node, yaml.SequenceNode):
            for item in node.value:
                if isinstance(item, yaml.ScalarNode):
                    item.tag = str_tag
        elif isinstance(node, yaml.MappingNode):
            for _, value in node.value:
                if isinstance(value, yaml.ScalarNode):
                    value.tag = str_tag

    seen: set[int] = set()
    stack = [root]
    while stack:  # iterative: no deeper than the bounds checked already, but a walk needs no recursion
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value in keys:
                    as_text(value)
                stack.append(value)


def _check_expanded(root: Any) -> None:
    """Refuse a node graph whose aliases expand past MAX_NODES values or MAX_DEPTH levels, or loop."""
    import yaml

    measured: dict[int, tuple[int, int]] = {}  # id(node) -> (values, depth) once expanded
    open_nodes: set[int] = set()

    def measure(node: Any) -> tuple[int, int]:
        # An alias is the anchored node itself, and an anchor comes before its aliases: every node is
        # measured once, at its own place, so this recursion is no deeper than the composer's.
        key = id(node)
        if key in measured:
            return measured[key]
        if key in open_nodes:
            raise YamlError("a YAML alias refers to itself")
        open_nodes.add(key)
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        else:
            children = []
        values, depth = 1, 1
        for child in children:
            n, d = measure(child)
            values, depth = values + n, max(depth, d + 1)
        open_nodes.discard(key)
        measured[key] = (values, depth)
        return values, depth

    values, depth = measure(root)
    if values > MAX_NODES:
        raise YamlError(f"too many values once YAML aliases are expanded (more than {MAX_NODES:,})")
    if depth > MAX_DEPTH:
        raise YamlError(f"nested deeper than {MAX_DEPTH} levels once YAML aliases are expanded")
