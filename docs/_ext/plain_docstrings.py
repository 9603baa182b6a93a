"""Read mlpkit's docstrings as the plain text they are written in, not as reStructuredText.

The docstrings state equations and contracts in plain text with `code` in backticks: `mean_`,
`|dtheta_i|` or `**options` would be rST links, substitutions and bold. Outside backticks,
this hook escapes a name's trailing underscore, `|` and `*` (`**options`, `[2, *hidden, 1]`) so
they show as written. In numpydoc types, shapes are shown as code rather than as links.
"""

import re

SPANS = re.compile(r"(``.*?``|`[^`]*`)")
TRAILING_UNDERSCORE = re.compile(r"(\w)_(?=\W|$)")
DIRECTIVE = re.compile(r"\s*\.\. ")  # napoleon's `.. attribute:: mean_`: names stay as they are
FIELD = re.compile(r"(\s*:[^:`]+:)(.*)")  # `:param X:` / `:ivar mean_:`: only the text after
TYPE_FIELD = re.compile(r"\s*:(type|vartype|rtype)( [^:]*)?:")
SHAPE = re.compile(r"shape (\([^)]*\))")
# napoleon's Returns and Yields: `:returns: **self** -- text`, or `* **X** (*type*) -- text`
RETURN_ITEM = re.compile(
    r"(\s*(?::returns:\s*|:Yields:\s*)?(?:\* )?\*\*[^*]+\*\*(?: \(\*.*?\*\))?)(.*)")


def escape(text: str) -> str:
    parts = SPANS.split(text)
    for i in range(0, len(parts), 2):  # the even parts are outside backticks
        part = parts[i].replace("|", r"\|").replace("*", r"\*")
        parts[i] = TRAILING_UNDERSCORE.sub(r"\1\\_", part)
    return "".join(parts)


def escape_line(line: str) -> str:
    if DIRECTIVE.match(line):
        return line
    item = RETURN_ITEM.fullmatch(line)
    if item and (line.lstrip().startswith((":returns:", ":Yields:", "* **"))):
        return item.group(1) + escape(item.group(2))  # napoleon's markup kept, the text escaped
    field = FIELD.fullmatch(line)
    if field and TYPE_FIELD.match(line):
        # a type's words become links; a shape's (n_samples, n_features) are no object's names
        # (n_features would link to some source's attribute): shown as code, they stay text
        return field.group(1) + escape(SHAPE.sub(r"shape ``\1``", field.group(2)))
    if field:
        return field.group(1) + escape(field.group(2))
    return escape(line)


def process_docstring(app, what, name, obj, options, lines):
    lines[:] = [escape_line(line) for line in lines]


def skip_member(app, what, name, obj, skip, options):
    """scikit-learn's generated metadata-routing setters are scikit-learn's to document."""
    if re.fullmatch(r"set_\w+_request", name):
        return True
    return None


def setup(app):
    app.connect("autodoc-process-docstring", process_docstring)
    app.connect("autodoc-skip-member", skip_member)
    return {"parallel_read_safe": True}
