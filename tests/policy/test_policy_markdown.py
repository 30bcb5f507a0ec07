"""HTML to GitHub-flavoured Markdown: escaping, tables, lists, links."""

from __future__ import annotations

from policy_helpers import markdown_to_html, visible_text

from jagadata.policy.markdown import escape_markdown, html_to_markdown


def test_text_is_escaped_so_it_reads_as_written() -> None:
    source = "<p>a*b_c [d](e) &lt;f&gt; | g `h` &amp;copy;</p>"
    markdown = html_to_markdown(source)
    assert markdown == "a\\*b\\_c \\[d\\](e) \\<f\\> \\| g \\`h\\` \\&copy;\n"
    assert visible_text(markdown_to_html(markdown)) == visible_text(source)


def test_a_paragraph_never_turns_into_a_heading_or_list() -> None:
    for text in ("# not a heading", "- not a list", "1. not a list", "+ plus"):
        markdown = html_to_markdown(f"<p>{text}</p>")
        rendered = markdown_to_html(markdown)
        assert rendered.startswith("<p>") and visible_text(rendered) == text


def test_tables_keep_their_shape_and_caption() -> None:
    source = (
        "<table><caption>Cap | tion</caption><thead><tr><th scope=\"col\">A</th>"
        "<th scope=\"col\">B</th></tr></thead><tbody><tr><th scope=\"row\">x | y</th>"
        "<td><code>a|b</code>, <code>c</code></td></tr></tbody></table>"
    )
    markdown = html_to_markdown(source)
    assert markdown.splitlines() == [
        "**Cap \\| tion**", "", "| A | B |", "| --- | --- |", "| x \\| y | `a\\|b`, `c` |",
    ]
    assert markdown_to_html(markdown).count("<td>") == 2


def test_links_lists_and_quotes() -> None:
    source = (
        '<ul><li>Email: <a href="mailto:a@b.example">a@b.example</a></li>'
        '<li><a href="https://x.example/o/">https://x.example/o/</a></li>'
        '<li><a href="#rights">Your rights</a> and <a href="https://x.example/(p)">p</a></li></ul>'
        "<blockquote><p>I agree.</p></blockquote><nav><a href=\"#x\">skip</a></nav>"
    )
    assert html_to_markdown(source).splitlines() == [
        "- Email: <a@b.example>",
        "- <https://x.example/o/>",
        "- Your rights and [p](https://x.example/%28p%29)",
        "",
        "> I agree.",
    ]


def test_escape_leaves_plain_words_alone() -> None:
    assert escape_markdown("Pelindungan Data Pribadi 3 × 24 jam (Pasal 46)") == (
        "Pelindungan Data Pribadi 3 × 24 jam (Pasal 46)"
    )
