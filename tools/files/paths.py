"""Workspace paths: validation and normalisation as pure string logic (no file system access).

A workspace path is relative to the workspace root and uses ``/`` between names. The normal form
has no empty, ``.`` or ``..`` components and no leading or trailing slash; the root itself is the
empty string (shown to the agent as ``"."``)::

    >>> normalize_path("a//b/./c")
    'a/b/c'
    >>> normalize_path("src/../README.md")
    'README.md'
    >>> normalize_path("./", root_ok=True)
    ''

Everything that could leave the root or confuse a reader is refused with a ToolError: absolute
paths, ``..`` past the root, backslashes, control and other invisible characters, names with
``..`` inside them, names with leading or trailing spaces, over-long names and paths.
"""

from __future__ import annotations

import unicodedata

from toolgym import ToolError

MAX_PATH_CHARS = 1024
"""Longest accepted path, in characters, before normalisation."""

MAX_NAME_CHARS = 255
"""Longest accepted single name (path component), in characters."""

# Unicode categories refused in names: controls (C0, DEL, C1), invisible format characters
# (zero-width, bidi overrides), lone surrogates (not encodable as UTF-8) and line separators.
_REFUSED_CATEGORIES = ("Cc", "Cf", "Cs", "Zl", "Zp")


def normalize_path(raw: str, *, root_ok: bool = False, dir_ok: bool = True) -> str:
    """Check ``raw`` and return its normal form, or raise ToolError saying what is wrong.

    Args:
        raw: The path as the agent wrote it.
        root_ok: Whether the workspace root ('' or '.') is acceptable (directory arguments).
        dir_ok: Whether a trailing '/' (which names a directory) is acceptable.
    """
    _check_characters(raw)
    if raw.startswith("/"):
        raise ToolError(
            f"absolute paths are not allowed ({_show(raw)}); give a path relative to the "
            "workspace root, such as 'src/app.py'"
        )
    names: list[str] = []
    for name in raw.split("/"):
        if name in ("", "."):
            continue
        if name == "..":
            if not names:
                raise ToolError(
                    f"path {_show(raw)} escapes the workspace root; '..' cannot go above it"
                )
            names.pop()
            continue
        _check_name(name, raw)
        names.append(name)
    path = "/".join(names)
    if not path and not root_ok:
        raise ToolError(f"empty path ({_show(raw)}): name a file or folder, such as 'README.md'")
    if path and not dir_ok and raw.endswith("/"):
        raise ToolError(f"path {_show(raw)} ends with '/', which names a folder; give a file path")
    return path


def display(path: str) -> str:
    """How a normalised path is shown to the agent: the root is '.'."""
    return path or "."


def parent(path: str) -> str:
    """The folder holding ``path`` ('' for top-level entries).

    >>> parent("src/app/main.py"), parent("README.md")
    ('src/app', '')
    """
    return path.rpartition("/")[0]


def basename(path: str) -> str:
    """The last name of ``path``.

    >>> basename("src/app/main.py")
    'main.py'
    """
    return path.rpartition("/")[2]


def join(folder: str, name: str) -> str:
    """``folder/name`` for normalised parts ('' is the root).

    >>> join("", "a.txt"), join("src", "a.txt")
    ('a.txt', 'src/a.txt')
    """
    return f"{folder}/{name}" if folder else name


def ancestors(path: str) -> list[str]:
    """Every folder above ``path``, outermost first, without the root.

    >>> ancestors("a/b/c.txt")
    ['a', 'a/b']
    """
    names = path.split("/")[:-1]
    return ["/".join(names[: i + 1]) for i in range(len(names))]


def is_within(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` itself or lies below it ('' is the root).

    >>> is_within("src/a.py", "src"), is_within("srcx/a.py", "src"), is_within("x", "")
    (True, False, True)
    """
    return not folder or path == folder or path.startswith(folder + "/")


def _check_characters(raw: str) -> None:
    if len(raw) > MAX_PATH_CHARS:
        raise ToolError(f"path is too long ({len(raw)} characters; the limit is {MAX_PATH_CHARS})")
    if not (raw.isascii() and raw.isprintable()):  # printable ASCII needs no closer look
        for char in raw:
            _check_character(char)
    if "\\" in raw:
        raise ToolError(f"path {_show(raw)} contains a backslash; separate folders with '/'")


def _check_character(char: str) -> None:
    if char == "\0":
        raise ToolError("path contains a NUL byte; names may not contain control characters")
    if unicodedata.category(char) in _REFUSED_CATEGORIES:
        raise ToolError(
            f"path contains the control or invisible character U+{ord(char):04X}; "
            "use printable characters only"
        )


def _check_name(name: str, raw: str) -> None:
    if len(name) > MAX_NAME_CHARS:
        raise ToolError(
            f"a name in the path is too long ({len(name)} characters; the limit is "
            f"{MAX_NAME_CHARS})"
        )
    if ".." in name:
        raise ToolError(f"path {_show(raw)}: names may not contain '..' ({_show(name)})")
    if name != name.strip():
        raise ToolError(f"path {_show(raw)}: the name {name!r} starts or ends with whitespace")


def _show(text: str, limit: int = 80) -> str:
    """``repr`` of a user string, shortened so error messages stay readable."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "..."
