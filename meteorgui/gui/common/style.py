"""How the GUI looks: its named colours (light and dark), and text made safe for rich text.

Text a camera controls is shown as plain text; where a label mixes it with markup, it goes
through ``plain`` first.
"""

from __future__ import annotations

import html


def plain(text: object) -> str:
    """``text`` as rich-text-safe characters: &, < and > escaped, quotes kept as typed."""
    return html.escape(str(text), quote=False)
