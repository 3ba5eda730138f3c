"""The demo's hand-off: the ray tracer's Mojo image given to numpy as a view, beside the per-channel
copy loop it replaces (``np.zeros``, then every channel of every pixel stored through a pointer).

    python benchmarks/bench_demo.py [--quick]

The image is the demo's own (``bufferable.demo.rendering.blank_image``: the Mojo ``Image`` the
renderer fills, left blank here), at the demo's 1024x768 and at 2048x1536 to show the copy
growing with the image while the view does not.
"""
from __future__ import annotations

import sys

import numpy as np

import report
import timing

Row = report.Row
#: (width, height): the demo's image, and a larger one.
IMAGES = [(1024, 768), (2048, 1536)]
#: The image the copy-vs-view target applies to.
TARGET_IMAGE = (1024, 768)
NOTES = ["demo copy: the hand-off before zero-copy, np.zeros then every channel of every pixel stored "
         "through a pointer (Image.to_numpy_copy)."]


def build() -> None:
    """Builds the demo's Mojo module if it is not cached (the demo's own cache)."""
    from bufferable.demo.build import build_extension

    build_extension(None)


def measure(rounds: report.Rounds = report.FULL) -> list[Row]:
    """The view and the copy of each image, interleaved; checks the view is the image's memory."""
    from bufferable.demo.rendering import blank_image

    rows = []
    for width, height in IMAGES:
        image = blank_image(width, height, progress=None)
        view = np.asarray(image)
        assert view.shape == (height, width, 3)
        assert view.__array_interface__["data"][0] == image.data_address(), "the hand-off copied"
        del view
        t_view, t_copy = timing.paired(lambda: np.asarray(image), image.to_numpy_copy, **rounds.kw())
        target = report.COPY_VS_VIEW if (width, height) == TARGET_IMAGE else None
        common = dict(section="demo", size=f"{width}x{height}", nbytes=width * height * 3 * 4)
        rows += [
            Row(path="demo hand-off np.asarray(image)", seconds=t_view, **common),
            Row(path="demo hand-off, per-channel copy loop", seconds=t_copy, baseline="np.asarray(image)",
                baseline_seconds=t_view, target=target, kind="copy", **common),
        ]
        del image
    return rows


def main(argv=None) -> int:
    """Command line entry point: ``[--quick]``, measure, print the table (see ``report.main``)."""
    return report.main(__doc__, measure, NOTES, argv)


if __name__ == "__main__":
    sys.exit(main())
