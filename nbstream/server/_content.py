"""What the embedded backend says: deterministic answers, and how they are cut into tokens.

- ``echo`` repeats the last user message, and says what images the request carried;
- ``demo`` answers in rich markdown, one of several answers chosen by keywords in the prompt
  (``code``, ``math``, ``table``, ``long``; anything else gets the tour);
- ``lorem`` sends ``n`` words of lorem ipsum;
- ``hostile`` sends markdown full of script-injection payloads, each of which would set its own
  ``window.__nbstream_pwned_*`` flag if a renderer ever let it run.

Any other model name answers like ``demo``, so a client configured for a real service works.
Pure: stdlib only.
"""

from __future__ import annotations

import re

from ._answers import ANSWERS, long_answer

__all__ = ["HOSTILE", "answer", "count_tokens", "tokenize"]

_LOREM = (  # noqa: SIM905 - reads as the text it is
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut "
    "labore et dolore magna aliqua ut enim ad minim veniam quis nostrud exercitation ullamco "
    "laboris nisi ut aliquip ex ea commodo consequat duis aute irure dolor in reprehenderit in "
    "voluptate velit esse cillum dolore eu fugiat nulla pariatur excepteur sint occaecat cupidatat "
    "non proident sunt in culpa qui officia deserunt mollit anim id est laborum"
).split()

#: Markdown that must never execute anything. Each payload sets a distinct flag on ``window``.
HOSTILE = """\
# A hostile answer

This answer tries every trick; a safe renderer shows it as inert text.

<script>window.__nbstream_pwned_script = 1</script>

<img src=x onerror="window.__nbstream_pwned_img = 1">

[click me](javascript:window.__nbstream_pwned_link=1) and
<a href="javascript:window.__nbstream_pwned_anchor=1">an anchor</a>

<iframe srcdoc="<script>parent.__nbstream_pwned_iframe = 1</script>"></iframe>

<svg onload="window.__nbstream_pwned_svg = 1"><circle r="4"/></svg>

<details open ontoggle="window.__nbstream_pwned_details = 1"><summary>details</summary></details>

<style>body { background: red; }</style>

A remote image (a privacy leak, not a script): ![x](http://203.0.113.7/x.png)

Raw HTML inside code stays text: `<script>window.__nbstream_pwned_code = 1</script>`

A code block may try to end its fence early, or close the HTML around it:

````
```
</code></pre><img src=x onerror="window.__nbstream_pwned_fence = 1">
```
````

```
</code></pre><img src=x onerror="window.__nbstream_pwned_close = 1">
```

Or smuggle markup in its language tag:

```x"><img src=x onerror="window.__nbstream_pwned_lang = 1">
x = 1
```

- or hide markup after a code block in a list item:
  ```
  x = 2
  ```
  <img src=x onerror="window.__nbstream_pwned_item = 1"> and `<img src=x onerror="window.__nbstream_pwned_span = 1">`
"""

_TOKEN = re.compile(r"\s*\S+|\s+")


def tokenize(text: str) -> list[str]:
    """Cut text into word tokens, each with the whitespace before it (``"Hi", " there"``).

    Args:
        text: The answer.

    Returns:
        Tokens whose concatenation is ``text`` exactly.
    """
    return _TOKEN.findall(text)


def count_tokens(text: str) -> int:
    """Count words, the backend's stand-in for prompt tokens."""
    return len(text.split())


def answer(model: str, prompt: str, n: int = 200, images: list[str] | None = None) -> str:
    """The deterministic answer of ``model`` to ``prompt``.

    Args:
        model: ``echo``, ``demo``, ``lorem``, ``hostile``; anything else answers like ``demo``.
        prompt: The last user message.
        n: Words of ``lorem``.
        images: What each image of the request is (for ``echo``).

    Returns:
        The full answer text.
    """
    if model == "echo":
        if not images:
            return prompt
        said = "\n".join(f"- {i}" for i in images)
        return f"{prompt}\n\n[received {len(images)} image(s):\n{said}\n]"
    if model == "lorem":
        words = [_LOREM[i % len(_LOREM)] for i in range(n)]
        return " ".join(words).capitalize() + ("." if words else "")
    if model == "hostile":
        return HOSTILE
    keywords = set(re.findall(r"[a-z]+", prompt.lower()))
    if keywords & {"long", "essay", "longer", "lengthy"}:
        return long_answer()
    for keys, text in ANSWERS:
        if keywords & keys:
            return text
    return ANSWERS[-1][1]
