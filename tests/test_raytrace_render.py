"""The ray-tracing demo: the Mojo renderer against a golden image, and the hand-off to numpy.

The first run compiles the demo's Mojo extension (cached under ~/.cache/bufferable, or
$BUFFERABLE_CACHE_DIR). Regenerate the golden image after an intended change to the scene with
`python tests/test_raytrace_render.py --regenerate` and look at it before committing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PIL")
from PIL import Image as PillowImage  # noqa: E402

from bufferable.demo import build, raytrace  # noqa: E402
from bufferable.demo.background import make_background  # noqa: E402

GOLDEN = Path(__file__).parent / "golden" / "raytrace_64x48.png"
WIDTH, HEIGHT = 64, 48


def _render_small():
    # A small background keeps the test fast; the golden image was rendered with the same one.
    return raytrace.render(
        WIDTH, HEIGHT, background=make_background(128), samples_per_side=2, thread_count=2, progress=None
    )


@pytest.fixture(scope="module")
def small_image():
    try:
        build.find_mojo()
    except build.MojoBuildError as error:
        pytest.skip(str(error))
    return _render_small()


def _has_buffer_export(image) -> bool:
    try:
        memoryview(image).release()
    except TypeError:
        return False
    return True


def test_image_layout_is_16_byte_pixels(small_image):
    assert small_image.shape() == (HEIGHT, WIDTH, 3)
    assert small_image.strides() == (16 * WIDTH, 16, 4)
    assert small_image.data_address() % 16 == 0


def test_render_matches_golden_image(small_image):
    rendered = raytrace.to_srgb8(small_image.to_numpy_copy()).astype(np.int16)
    golden = np.asarray(PillowImage.open(GOLDEN).convert("RGB"), dtype=np.int16)
    assert rendered.shape == golden.shape
    difference = np.abs(rendered - golden)
    # Float rounding (FMA, libm) may move an edge pixel a little; the picture may not change.
    assert difference.mean() < 1.0, f"mean difference {difference.mean():.2f} / 255"
    assert np.mean(difference.max(axis=2) > 24) < 0.01, "more than 1% of the pixels differ visibly"


def test_render_is_deterministic_across_thread_counts(small_image):
    single = raytrace.render(
        WIDTH, HEIGHT, background=make_background(128), samples_per_side=2, thread_count=1, progress=None
    )
    np.testing.assert_array_equal(single.to_numpy_copy(), small_image.to_numpy_copy())


def test_copy_hand_off_is_a_copy(small_image):
    copy = small_image.to_numpy_copy()
    assert copy.shape == (HEIGHT, WIDTH, 3) and copy.dtype == np.float32
    assert copy.__array_interface__["data"][0] != small_image.data_address()
    np.testing.assert_allclose(copy[7, 5], small_image.pixel(7, 5), rtol=0, atol=0)
    copy[7, 5] = (9.0, 9.0, 9.0)
    assert small_image.pixel(7, 5) != (9.0, 9.0, 9.0)


def test_background_may_be_strided_and_four_channel():
    background = make_background(64)
    four_channels = make_background(64, channels=4)
    reversed_columns = np.ascontiguousarray(background[:, ::-1])[:, ::-1]  # a negative column stride
    reference = raytrace.render(16, 12, background=background, thread_count=1, progress=None).to_numpy_copy()
    for variant in (four_channels, reversed_columns):
        image = raytrace.render(16, 12, background=variant, thread_count=1, progress=None)
        np.testing.assert_array_equal(image.to_numpy_copy(), reference)


def test_background_of_wrong_type_is_refused():
    with pytest.raises(Exception, match="float32"):
        raytrace.render(8, 6, background=np.zeros((4, 8, 3), np.float64), progress=None)
    with pytest.raises(Exception, match="shape"):
        raytrace.render(8, 6, background=np.zeros((4, 8), np.float32), progress=None)


def test_numpy_views_the_mojo_image(small_image):
    if not _has_buffer_export(small_image):
        pytest.skip("the demo's Image does not export the buffer protocol yet (Bufferable export pending)")
    pixels = np.asarray(small_image)
    assert pixels.shape == (HEIGHT, WIDTH, 3) and pixels.dtype == np.float32
    assert pixels.strides == (16 * WIDTH, 16, 4)
    assert pixels.__array_interface__["data"][0] == small_image.data_address()
    # A write on either side is seen on the other.
    pixels[3, 4] = (0.25, 0.5, 0.75)
    assert small_image.pixel(3, 4) == (0.25, 0.5, 0.75)
    small_image.set_pixel(10, 20, (1.0, 0.0, 0.5))
    assert tuple(pixels[10, 20]) == (1.0, 0.0, 0.5)


def _regenerate() -> None:
    image = _render_small()
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    raytrace.save_png(image.to_numpy_copy(), GOLDEN)
    print(f"wrote {GOLDEN}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--regenerate"]:
        _regenerate()
    else:
        print(__doc__)
