"""Progress of long loops on stderr: a tqdm bar on a terminal, a line every 5 % in a log.

:func:`bar` opens one for a loop (prompts generated, optimizer steps, pieces translated): items
done, their rate, the time left and, where given, tokens/s and other figures (the loss). When
stderr is a terminal it is tqdm's own bar, redrawn in place; otherwise (``dvc repro`` piped to a
log, CI, tests) :class:`LineBar` writes one whole line each time another 5 % is done, and one at
the end, so a log gets a bounded number of lines whatever the loop's length. :func:`tqdm_class`
is the same choice as a tqdm class, for libraries that take one (vLLM's ``use_tqdm``).
:func:`relay` passes a child process's tqdm bar (COMET's) on to stderr in the same two ways.

Nothing here writes to any file that DVC tracks: progress is only for the person watching.
"""

import contextlib
import contextvars
import math
import re
import sys
import time
from collections.abc import Iterator
from typing import IO

from tqdm import tqdm

#: Off a terminal, a line each time this share of the total is done.
EVERY = 0.05
#: Off a terminal and without a known total, a line at most this often (seconds).
INTERVAL = 30.0
_CURRENT: contextvars.ContextVar["Progress | None"] = contextvars.ContextVar(
    "radis_progress", default=None
)


class _Sink:
    """A file that drops what is written (where tqdm's own redrawing goes in a log)."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


class LineBar(tqdm):
    """tqdm for logs: one full line on ``out`` (stderr) at every 5 % and at the end.

    tqdm's in-place redrawing goes to a sink; each line is tqdm's own meter without the bar
    (``desc:  45% 450/1000 [00:10<00:12, 45.00it/s, postfix]``), with the average rate since the
    start. A loop of any length writes at most 22 lines; without a total, one every
    :data:`INTERVAL` seconds. Takes tqdm's arguments (``file`` is ignored).
    """

    monitor_interval = 0  # no tqdm monitor thread: nothing is redrawn

    def __init__(self, *args, out: IO[str] | None = None, **kwargs):
        self._out = out or sys.stderr
        self._shown: float = -1.0  # the last line's bucket (or time, without a total)
        self._shown_n = None
        kwargs.update(file=_Sink(), disable=False, dynamic_ncols=False, ncols=0)
        kwargs.update(mininterval=math.inf, smoothing=0)
        super().__init__(*args, **kwargs)

    def update(self, n: float = 1) -> bool | None:
        """Advance by ``n`` and write a line if another 5 % is done."""
        out = super().update(n)
        self._line()
        return out

    def close(self) -> None:
        """Write the last line (unless the last one written said the same) and close."""
        if not self.disable:
            self._line(final=True)
        super().close()

    def _line(self, final: bool = False) -> None:
        if self.total:
            mark = math.floor(self.n / self.total / EVERY)
        else:
            now = time.monotonic()
            mark = now if now - self._shown >= INTERVAL else self._shown
        if mark > self._shown or (final and self.n != self._shown_n):
            self._shown, self._shown_n = mark, self.n
            meter = self.format_meter(**(self.format_dict | {"ncols": 0, "rate": None}))
            self._out.write(meter + "\n")
            self._out.flush()


def interactive() -> bool:
    """Whether stderr is a terminal (a bar is redrawn) rather than a log (lines)."""
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


def tqdm_class() -> type[tqdm]:
    """The bar class: ``tqdm`` on a terminal, else :class:`LineBar` (for a ``tqdm`` argument)."""
    return tqdm if interactive() else LineBar


class Progress:
    """One loop's progress: items done, tokens/s and figures, shown by a tqdm bar.

    Attributes:
        bar: The tqdm (or :class:`LineBar`) instance.
        tokens: Tokens counted so far (generated tokens, or processed training tokens).
    """

    def __init__(self, bar: tqdm):
        self.bar, self.tokens = bar, 0
        self._start = time.perf_counter()

    def update(self, n: int = 1, tokens: int = 0, **figures: float) -> None:
        """``n`` more items done, with ``tokens`` more tokens; ``figures`` shown as they are."""
        if self.bar.disable:
            return
        self.tokens += tokens
        parts = [f"{k} {v:.4g}" for k, v in figures.items()]
        if self.tokens:
            rate = self.tokens / max(time.perf_counter() - self._start, 1e-9)
            parts.append(f"{rate:,.0f} tok/s")
        if parts:
            self.bar.set_postfix_str(", ".join(parts), refresh=False)
        self.bar.update(n)

    def reach(self, n: int, tokens: int) -> None:
        """Bring the counts up to ``n`` items and ``tokens`` tokens (a loop that had no bar)."""
        if not self.bar.disable and (n > self.bar.n or tokens > self.tokens):
            self.update(max(n - self.bar.n, 0), max(tokens - self.tokens, 0))

    def skip(self, n: int) -> None:
        """Count ``n`` items done earlier (resumed work): left out of the rate and the ETA."""
        if self.bar.disable or not n:
            return
        self.bar.initial += n
        self.bar.update(n)


@contextlib.contextmanager
def bar(total: int, desc: str, unit: str = "it", show: bool = True) -> Iterator[Progress]:
    """A :class:`Progress` over ``total`` items for the ``with`` block, closed at its end.

    While it is open it is :func:`current`, so a loop further down (a backend's batches) can
    count on it (:func:`shared`). With ``show`` false nothing is shown and updates cost nothing.
    """
    cls = tqdm_class() if show else tqdm
    kwargs = dict(desc=desc, unit=unit, file=sys.stderr, smoothing=0, disable=not show)
    progress = Progress(cls(total=total, **kwargs))
    token = _CURRENT.set(progress)
    try:
        yield progress
    finally:
        _CURRENT.reset(token)
        progress.bar.close()


def current() -> "Progress | None":
    """The innermost open :func:`bar`, if any."""
    return _CURRENT.get()


@contextlib.contextmanager
def shared(total: int, desc: str, unit: str = "it") -> Iterator[Progress]:
    """The open :func:`bar` (an outer loop over the same items), else a new one."""
    outer = current()
    if outer is not None:
        yield outer
        return
    with bar(total, desc, unit) as progress:
        yield progress


_METER = re.compile(r"(\d+)%\|")


class _Relay:
    """Where :func:`relay` stands: the child's bar shown so far, and its other output."""

    def __init__(self, out: IO[str], keep: int):
        self.out, self.keep = out, keep
        self.tty = bool(getattr(out, "isatty", lambda: False)())
        self.tail: list[str] = []
        self.mark, self.unshown = -1, ""  # the last line's 5 % bucket; a meter not yet shown

    def piece(self, text: str) -> None:
        """Show ``text`` if it is a meter of the bar, else keep it in the tail."""
        meter = _METER.search(text)
        if meter is None:
            self.tail = (self.tail + [text])[-self.keep :]
        elif self.tty:
            self.write("\r" + text + "\x1b[K")
            self.unshown = text
        elif int(meter.group(1)) // round(100 * EVERY) > self.mark:
            self.mark = int(meter.group(1)) // round(100 * EVERY)
            self.write(text + "\n")
            self.unshown = ""
        else:
            self.unshown = text

    def end(self) -> None:
        """End the bar's line (a terminal) or write its last meter (a log)."""
        if self.unshown:
            self.write("\n" if self.tty else self.unshown + "\n")

    def write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()


def relay(stream: IO[bytes], out: IO[str] | None = None, keep: int = 20) -> list[str]:
    """Pass a child process's tqdm bar from ``stream`` on to ``out`` (stderr); return the rest.

    Only the bar's meters (pieces with ``NN%|``) are passed on: redrawn in place on a terminal,
    otherwise one line per 5 % and the last. Everything else the child writes is held back: the
    last ``keep`` non-empty lines of it are returned (to name a failure).
    """
    state = _Relay(out or sys.stderr, keep)
    pending = ""
    for chunk in iter(lambda: stream.read1(4096), b""):
        *pieces, pending = re.split(r"[\r\n]", pending + chunk.decode("utf-8", "replace"))
        for text in pieces:
            if text.strip():
                state.piece(text.strip())
    if pending.strip():
        state.piece(pending.strip())
    state.end()
    return state.tail
