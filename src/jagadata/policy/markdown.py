"""Serialise the policy's HTML as GitHub-flavoured Markdown.

The templates write a small, known subset of HTML (sections, headings, paragraphs, lists,
tables, links, emphasis, code, quotes). Converting that subset keeps one source of prose for
both formats; text is escaped for Markdown here, as autoescape escapes it for HTML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Final

_VOID: Final = frozenset({"br", "meta", "link", "img", "hr", "input"})
_SKIP: Final = frozenset({"nav", "style", "script", "head", "title"})
_HEADINGS: Final = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_INLINE_SPECIAL: Final = re.compile(r"([\\`*_\[\]<>|~])")
_ENTITY_LIKE: Final = re.compile(r"&(?=[A-Za-z0-9#]+;)")
_LINE_START: Final = re.compile(r"^(\s*)([#+\-=>]|\d+[.)])(?=\s|$)")
_SPACE: Final = re.compile(r"\s+")
_AUTOLINKABLE: Final = re.compile(r"^[^\s<>]+$")


@dataclass
class _Node:
    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[_Node | str] = field(default_factory=list)


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("root")
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = _Node(tag, {key: value or "" for key, value in attrs})
        self.stack[-1].children.append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def html_to_markdown(html: str) -> str:
    """The Markdown text of `html`: one blank line between blocks, a final newline."""
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    blocks = _blocks(builder.root)
    return "\n\n".join(block for block in blocks if block.strip()) + "\n"


def escape_markdown(text: str) -> str:
    text = _INLINE_SPECIAL.sub(r"\\\1", text)
    return _ENTITY_LIKE.sub(r"\\&", text)


def _blocks(node: _Node) -> list[str]:
    blocks: list[str] = []
    inline: list[_Node | str] = []

    def flush() -> None:
        text = _inline(inline).strip()
        if text:
            blocks.append(_protect_line_start(text))
        inline.clear()

    for child in node.children:
        if isinstance(child, str) or not _is_block(child):
            inline.append(child)
            continue
        flush()
        blocks.extend(_block(child))
    flush()
    return blocks


def _is_block(node: _Node) -> bool:
    return node.tag in _HEADINGS or node.tag in _SKIP or node.tag in {
        "html", "body", "main", "article", "section", "header", "footer", "div", "p", "ul",
        "ol", "table", "blockquote", "figure", "aside",
    }


def _block(node: _Node) -> list[str]:
    if node.tag in _SKIP:
        return []
    if node.tag in _HEADINGS:
        return ["#" * _HEADINGS[node.tag] + " " + _inline(node.children).strip()]
    if node.tag == "p":
        text = _inline(node.children).strip()
        return [_protect_line_start(text)] if text else []
    if node.tag in ("ul", "ol"):
        return [_list(node)]
    if node.tag == "table":
        return _table(node)
    if node.tag == "blockquote":
        inner = _blocks(node)
        return ["\n>\n".join("> " + line for block in inner for line in block.split("\n"))]
    return _blocks(node)


def _list(node: _Node, depth: int = 0) -> str:
    lines = []
    ordered = node.tag == "ol"
    items = [child for child in node.children if isinstance(child, _Node) and child.tag == "li"]
    for number, item in enumerate(items, start=1):
        marker = f"{number}." if ordered else "-"
        indent = "  " * depth
        inline = [c for c in item.children if not (isinstance(c, _Node) and c.tag in ("ul", "ol"))]
        lines.append(f"{indent}{marker} {_protect_line_start(_inline(inline).strip())}")
        for child in item.children:
            if isinstance(child, _Node) and child.tag in ("ul", "ol"):
                lines.append(_list(child, depth + 1))
    return "\n".join(lines)


def _table(node: _Node) -> list[str]:
    caption = ""
    rows: list[list[str]] = []
    header: list[str] | None = None
    for part in _descendants(node, {"caption", "tr"}):
        if part.tag == "caption":
            caption = _inline(part.children).strip()
            continue
        cells = [c for c in part.children if isinstance(c, _Node) and c.tag in ("th", "td")]
        texts = [_cell(cell) for cell in cells]
        if header is None and all(cell.tag == "th" for cell in cells):
            header = texts
        else:
            rows.append(texts)
    if header is None:
        header = [""] * max((len(r) for r in rows), default=1)
    width = len(header)
    lines = [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join("---" for _ in header) + " |",
    ]
    for row in rows:
        row = (row + [""] * width)[:width]
        lines.append("| " + " | ".join(row) + " |")
    table = "\n".join(lines)
    return [f"**{caption}**", table] if caption else [table]


def _descendants(node: _Node, tags: set[str]) -> list[_Node]:
    found = []
    for child in node.children:
        if isinstance(child, _Node):
            if child.tag in tags:
                found.append(child)
            else:
                found.extend(_descendants(child, tags))
    return found


def _cell(cell: _Node) -> str:
    parts: list[str] = []
    inline: list[_Node | str] = []
    for child in [*cell.children, None]:
        if (isinstance(child, _Node) and child.tag in ("ul", "ol", "p")) or child is None:
            parts.append(_inline(inline))
            inline = []
            if isinstance(child, _Node) and child.tag == "p":
                parts.append(_inline(child.children))
            elif isinstance(child, _Node):
                items = [i for i in child.children if isinstance(i, _Node) and i.tag == "li"]
                parts.append("; ".join(_inline(i.children).strip() for i in items))
        else:
            inline.append(child)
    return _SPACE.sub(" ", " ".join(p.strip() for p in parts if p.strip())).strip() or " "


def _inline(children: list[_Node | str]) -> str:
    out: list[str] = []
    for child in children:
        if isinstance(child, str):
            out.append(escape_markdown(_SPACE.sub(" ", child)))
            continue
        tag = child.tag
        if tag in _SKIP:
            continue
        if tag == "br":
            out.append(" ")
        elif tag in ("strong", "b"):
            out.append(_wrap("**", _inline(child.children)))
        elif tag in ("em", "i"):
            out.append(_wrap("*", _inline(child.children)))
        elif tag == "code":
            out.append(_code(_raw_text(child)))
        elif tag == "a":
            out.append(_link(child))
        else:
            out.append(_inline(child.children))
    return "".join(out)


def _wrap(marker: str, text: str) -> str:
    stripped = text.strip()
    if not stripped:
        return text
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()) :]
    return f"{lead}{marker}{stripped}{marker}{trail}"


def _code(text: str) -> str:
    text = _SPACE.sub(" ", text)
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}".replace("|", "\\|")


def _link(node: _Node) -> str:
    label = _inline(node.children).strip()
    href = node.attrs.get("href", "")
    if not href or href.startswith("#"):
        return label
    text = _raw_text(node).strip()
    if text == href and href.startswith(("https://", "http://")) and _AUTOLINKABLE.match(href):
        return f"<{href}>"
    if href == f"mailto:{text}" and _AUTOLINKABLE.match(text):
        return f"<{text}>"
    destination = href.replace("(", "%28").replace(")", "%29").replace(" ", "%20")
    return f"[{label}]({destination})"


def _raw_text(node: _Node) -> str:
    return "".join(c if isinstance(c, str) else _raw_text(c) for c in node.children)


def _protect_line_start(text: str) -> str:
    """A paragraph that starts like '# ', '- ' or '1. ' must not become a heading or a list."""
    def escape(match: re.Match[str]) -> str:
        marker = match.group(2)
        if marker[0].isdigit():
            return match.group(1) + marker[:-1] + "\\" + marker[-1]
        return match.group(1) + "\\" + marker

    return _LINE_START.sub(escape, text, count=1)
