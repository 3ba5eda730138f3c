"""The ray-tracing demo: the Mojo renderer against a golden image, the zero-copy hand-off of the
Mojo image to numpy, the background read in place through a MemoryView, and bad input.

The first run compiles the demo's Mojo extension with bufferable.build (cached under
~/.cache/bufferable/demo/<environment hash>, or under $BUFFERABLE_CACHE); later sessions reuse
the build. Regenerate the golden image after an intended change to the scene with
`python tests/test_raytrace_render.py --regenerate` and look at it before committing.
"""

from __future__ import annotations

import gc
import io
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PIL")
from PIL import Image as PillowImage  # noqa: E402

import bufferable  # noqa: E402
from bufferable.testing import Producer  # noqa: E402
from bufferable.demo import build, cli, rendering  # noqa: E402
from bufferable.demo.background import make_background  # noqa: E402
from bufferable.demo.scene import SPHERE_DTYPE, default_scene, load_scene  # noqa: E402

GOLDEN = Path(__file__).parent / "golden" / "raytrace_64x48.png"
WIDTH, HEIGHT = 64, 48


def _render_small(thread_count: int = 2):
    # A small background keeps the test fast; the golden image was rendered with the same one.
    return rendering.render(
        WIDTH, HEIGHT, background=make_background(128), samples_per_side=2, thread_count=thread_count,
        progress=None,
    )


@pytest.fixture(scope="module")
def module():
    """The compiled demo extension (built once; later sessions reuse the cached build)."""
    try:
        build.find_mojo()
    except FileNotFoundError as error:  # the demo is part of the suite: a missing compiler fails
        pytest.fail(f"no Mojo compiler ({error}): install bufferable with the `mojo` extra")
    return build.load_extension(progress=None)


@pytest.fixture(scope="module")
def small_image(module):
    return _render_small()


# --- the picture ---------------------------------------------------------------------------------


def test_render_matches_golden_image(small_image):
    rendered = rendering.to_srgb8(np.asarray(small_image)).astype(np.int16)
    golden = np.asarray(PillowImage.open(GOLDEN).convert("RGB"), dtype=np.int16)
    assert rendered.shape == golden.shape
    difference = np.abs(rendered - golden)
    # Float rounding (FMA, libm) may move an edge pixel a little; the picture may not change.
    assert difference.mean() < 1.0, f"mean difference {difference.mean():.2f} / 255"
    assert np.mean(difference.max(axis=2) > 24) < 0.01, "more than 1% of the pixels differ visibly"


def test_render_is_deterministic_across_thread_counts(small_image):
    np.testing.assert_array_equal(np.asarray(_render_small(thread_count=1)), np.asarray(small_image))


def test_background_may_be_strided_and_four_channel(module):
    background = make_background(64)
    four_channels = make_background(64, channels=4)
    reversed_columns = np.ascontiguousarray(background[:, ::-1])[:, ::-1]  # a negative column stride
    every_other_row = np.repeat(background, 2, axis=0)[::2]  # a row stride of two rows
    assert reversed_columns.strides[1] < 0 and not every_other_row.flags.c_contiguous
    reference = np.asarray(rendering.render(16, 12, background=background, thread_count=1, progress=None))
    for variant in (four_channels, reversed_columns, every_other_row):
        image = rendering.render(16, 12, background=variant, thread_count=1, progress=None)
        np.testing.assert_array_equal(np.asarray(image), reference)


def test_background_is_what_the_renderer_sees(module):
    # A uniform background lights the whole picture in its colour: a black one leaves the sky
    # black, a white one makes it white (the top row of the image is sky).
    black = rendering.render(16, 12, background=np.zeros((8, 16, 3), np.float32), thread_count=1, progress=None)
    white = rendering.render(16, 12, background=np.ones((8, 16, 3), np.float32), thread_count=1, progress=None)
    assert np.all(np.asarray(black)[0] == 0)
    np.testing.assert_allclose(np.asarray(white)[0], 1.0, rtol=1e-5)


# --- the zero-copy hand-off ----------------------------------------------------------------------


def test_numpy_views_the_mojo_image(small_image):
    assert small_image.shape() == (HEIGHT, WIDTH, 3)
    assert small_image.strides() == (16 * WIDTH, 16, 4)
    assert small_image.data_address() % 16 == 0
    pixels = np.asarray(small_image)
    assert pixels.shape == (HEIGHT, WIDTH, 3) and pixels.dtype == np.float32
    assert pixels.strides == (16 * WIDTH, 16, 4)
    assert pixels.flags.writeable and not pixels.flags.c_contiguous
    assert pixels.__array_interface__["data"][0] == small_image.data_address()
    assert np.shares_memory(pixels, np.asarray(small_image))
    view = memoryview(small_image)
    assert (view.format, view.shape, view.strides, view.readonly) == ("f", (HEIGHT, WIDTH, 3), (16 * WIDTH, 16, 4), False)
    view.release()
    # A write on either side is seen on the other.
    saved = pixels.copy()
    try:
        pixels[3, 4] = (0.25, 0.5, 0.75)
        assert small_image.pixel(3, 4) == (0.25, 0.5, 0.75)
        small_image.set_pixel(10, 20, (1.0, 0.0, 0.5))
        assert tuple(pixels[10, 20]) == (1.0, 0.0, 0.5)
    finally:
        pixels[...] = saved


def test_every_export_is_released_once(module):
    image = rendering.blank_image(8, 6, progress=None)
    assert image.export_stats() == (0, 0, 0)
    first = np.asarray(image)
    second = np.asarray(image)
    view = memoryview(image)
    assert image.export_stats() == (3, 3, 0)
    del first
    view.release()
    assert image.export_stats() == (1, 3, 2)
    del second
    gc.collect()
    assert image.export_stats() == (0, 3, 3)
    # A request the core refuses (C-contiguous memory; the padding lane makes it strided) is
    # released too.
    with pytest.raises(BufferError):
        bufferable.inspect(image, flags=bufferable.BufferFlags.C_CONTIGUOUS)
    assert image.export_stats() == (0, 4, 4)
    info = bufferable.inspect(image)
    assert (info.shape, info.strides, info.readonly) == ((6, 8, 3), (128, 16, 4), False)
    assert image.export_stats() == (0, 5, 5)


def test_array_keeps_the_image_alive(module):
    image = rendering.blank_image(32, 16, progress=None)
    image.set_pixel(15, 31, (0.5, 0.25, 0.125))
    pixels = np.asarray(image)
    address = image.data_address()
    del image
    gc.collect()
    # Allocate and free to reuse freed memory, if the image had been freed.
    for _ in range(20):
        np.full((16, 32, 4), 7.0, np.float32)
    assert pixels.__array_interface__["data"][0] == address
    assert tuple(pixels[15, 31]) == (0.5, 0.25, 0.125)
    assert np.all(pixels[:15] == 0)
    pixels[0, 0] = 1.0  # still writable memory
    assert pixels[0, 0, 2] == 1.0
    del pixels
    gc.collect()


def test_copy_hand_off_is_a_copy(small_image):
    copy = small_image.to_numpy_copy()
    assert copy.shape == (HEIGHT, WIDTH, 3) and copy.dtype == np.float32 and copy.flags.c_contiguous
    assert copy.__array_interface__["data"][0] != small_image.data_address()
    np.testing.assert_array_equal(copy, np.asarray(small_image))
    copy[7, 5] = (9.0, 9.0, 9.0)
    assert small_image.pixel(7, 5) != (9.0, 9.0, 9.0)


def test_hand_off_timing_helper_checks_the_view(module):
    # cli.hand_off_seconds refuses an image numpy does not view in place, then times both hand-offs.
    zero_copy, copy = cli.hand_off_seconds(rendering.blank_image(4, 4, progress=None), min_total=0.001)
    assert zero_copy > 0 and copy > 0


# --- the background's acquisition ----------------------------------------------------------------


def test_background_is_acquired_once_and_released(module):
    background = Producer((8, 16, 3), "f")
    rendering.render(8, 6, background=background, thread_count=2, progress=None)
    assert (background.gets, background.releases, background.live_exports) == (1, 1, 0)


@pytest.mark.parametrize(
    "layout, error, match",
    [
        (dict(shape=(8, 16, 3), format="d"), ValueError, "float64, not float32"),
        (dict(shape=(8, 16), format="f"), ValueError, "2 dimensions, expected 3"),
        (dict(shape=(8, 16, 5), format="f"), ValueError, r"\(H, W, 3\) or \(H, W, 4\)"),
        (dict(shape=(0, 16, 3), format="f"), ValueError, "no pixels"),
        (dict(shape=(8, 16, 3), format=">f"), ValueError, "big-endian"),
        (dict(shape=(8, 16, 3), format="f", suboffsets=(0, -1, -1), strides=(8, 12, 4)), BufferError, "indirect"),
    ],
)
def test_bad_background_is_refused_and_released(module, layout, error, match):
    background = Producer(**layout)
    with pytest.raises(error, match=match):
        rendering.render(8, 6, background=background, thread_count=1, progress=None)
    assert background.live_exports == 0 and background.gets == background.releases


def test_read_only_background_is_accepted(module):
    background = make_background(16)
    background.flags.writeable = False
    rendering.render(8, 6, background=background, thread_count=1, progress=None)


def test_an_unaligned_background_renders_the_same_picture(module):
    """What an engine may deliver (Dask's frames: any address), read in place."""
    background = make_background(16)
    raw = np.zeros(background.nbytes + 1, np.uint8)
    unaligned = np.ndarray(background.shape, np.float32, buffer=raw, offset=1)
    unaligned[...] = background
    assert unaligned.ctypes.data % 4 != 0
    args = dict(thread_count=1, progress=None)
    np.testing.assert_array_equal(np.asarray(rendering.render(8, 6, background=unaligned, **args)),
                                  np.asarray(rendering.render(8, 6, background=background, **args)))


# --- the scene: a numpy structured array read in place by RecordView -----------------------------


def _render_scene(scene):
    return np.asarray(rendering.render(16, 12, background=make_background(32), scene=scene,
                                       thread_count=1, progress=None))


def test_scene_is_read_from_numpy(module):
    reference = _render_scene(default_scene())
    assert default_scene().dtype == SPHERE_DTYPE and SPHERE_DTYPE.itemsize == 44
    np.testing.assert_array_equal(_render_scene(None), reference)  # None is the default scene
    # any strides: every other record of a doubled array is the same scene
    doubled = np.repeat(default_scene(), 2)[::2]
    assert doubled.strides == (88,)
    np.testing.assert_array_equal(_render_scene(doubled), reference)
    # an edit made in numpy is what Mojo renders
    bigger = default_scene()
    bigger["radius"] *= 1.5
    bigger["color"][0] = (0.0, 1.0, 0.0)
    assert np.abs(_render_scene(bigger) - reference).max() > 0.1
    assert _render_scene(default_scene()[:0]).shape == (12, 16, 3)  # no spheres: floor and sky


def test_bad_scene_is_refused_with_the_field(module):
    wrong = np.zeros(2, [("center", "<f4", (3,)), ("radius", "<f8"), ("color", "<f4", (3,)),
                         ("albedo", "<f4"), ("specular", "<f4"), ("specular_exponent", "<f4")])
    with pytest.raises(ValueError, match="the buffer has 6 fields, SphereRecord has 7"):
        _render_scene(wrong)
    integer_radius = np.zeros(2, [(name, "<i4" if name == "radius" else SPHERE_DTYPE[name])
                                  for name in SPHERE_DTYPE.names])
    with pytest.raises(ValueError, match="field 'radius': the buffer has int32 at offset 12, "
                                         "SphereRecord has float32 at offset 12"):
        _render_scene(integer_radius)
    renamed = default_scene().view(np.dtype({"names": ["center", "size", "color", "albedo",
                                                       "specular", "specular_exponent",
                                                       "reflectivity"],
                                             "formats": [SPHERE_DTYPE[i] for i in range(7)]}))
    with pytest.raises(ValueError, match="field 1 of SphereRecord is 'radius', the buffer names it 'size'"):
        _render_scene(renamed)
    flat = default_scene()
    flat["radius"][2] = 0.0
    with pytest.raises(ValueError, match="sphere 2 has radius 0.0; it must be > 0"):
        _render_scene(flat)
    with pytest.raises(ValueError, match="2 dimensions, expected 1"):
        _render_scene(np.stack([default_scene(), default_scene()]))


def test_demo_command_saves_and_renders_a_scene(module, tmp_path, capsys):
    saved = tmp_path / "scene.npy"
    assert cli.main(["--save-scene", str(saved)]) == 0
    np.testing.assert_array_equal(load_scene(saved), default_scene())
    edited = load_scene(saved)
    edited["center"][:, 0] += 0.5
    np.save(saved, edited)
    out = tmp_path / "edited.png"
    assert cli.main(["--scene", str(saved), "--width", "16", "--height", "12", "--samples", "1",
                     "--threads", "1", "--out", str(out)]) == 0
    assert out.is_file() and "-> " + str(out) in capsys.readouterr().out
    np.save(saved, np.zeros(3, np.float64))
    assert cli.main(["--scene", str(saved), "--width", "16", "--height", "12"]) == 1
    assert "SphereRecord" in capsys.readouterr().err
    assert cli.main(["--scene", str(tmp_path / "missing.npy")]) == 1
    assert "cannot read the scene" in capsys.readouterr().err


# --- the demo on Ray ------------------------------------------------------------------------------


def test_bands_cover_every_row_once():
    from bufferable.demo.cluster import band_rows

    assert band_rows(48, 5) == [(0, 10), (10, 9), (19, 10), (29, 9), (38, 10)]
    assert band_rows(3, 16) == [(0, 1), (1, 1), (2, 1)]
    for height, bands in ((768, 16), (7, 3), (1, 1)):
        rows = band_rows(height, bands)
        assert sum(count for _, count in rows) == height
        assert all(first == sum(c for _, c in rows[:i]) for i, (first, _) in enumerate(rows))


def test_render_rows_is_the_band_of_the_picture(module, small_image):
    background = make_background(128)
    band = module.render_rows(WIDTH, HEIGHT, background, 2, 1, default_scene(), 17, 9)
    np.testing.assert_array_equal(np.asarray(band), np.asarray(small_image)[17:26])
    with pytest.raises(ValueError, match="not a band of a picture 48 rows high"):
        module.render_rows(WIDTH, HEIGHT, background, 2, 1, default_scene(), 40, 9)
    with pytest.raises(TypeError, match="takes 8 arguments"):
        module.render_rows(WIDTH, HEIGHT, background, 2, 1, default_scene())


def test_ray_renders_the_threaded_picture_from_bands_in_the_object_store(module, small_image,
                                                                          tmp_path):
    pytest.importorskip("ray", reason="the test extra installs ray")
    import json
    import subprocess

    # Ray runs in a child: a driver of its own, as a user's script is.
    script = tmp_path / "bands.py"
    script.write_text(
        "import json, sys\n"
        "import numpy as np\n"
        "from bufferable.demo.background import make_background\n"
        "from bufferable.demo.cluster import render_on_ray\n"
        f"result = render_on_ray({WIDTH}, {HEIGHT}, bands=5, samples_per_side=2,\n"
        "                       background=make_background(128))\n"
        "np.save(sys.argv[1], result.pixels)\n"
        "print(json.dumps([[b.first_row, b.row_count, b.nbytes, b.seconds > 0]\n"
        "                  for b in result.bands] + [result.bytes_out]))\n")
    run = subprocess.run([sys.executable, str(script), str(tmp_path / "pixels.npy")],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    *bands, bytes_out = json.loads(run.stdout.splitlines()[-1])
    band_bytes = [count * WIDTH * 3 * 4 for count in (10, 9, 10, 9, 10)]
    assert bands == [[first, count, nbytes, True] for (first, count), nbytes in
                     zip([(0, 10), (10, 9), (19, 10), (29, 9), (38, 10)], band_bytes)]
    assert bytes_out == WIDTH * HEIGHT * 3 * 4
    np.testing.assert_array_equal(np.load(tmp_path / "pixels.npy"), np.asarray(small_image))


def test_demo_on_ray_from_any_folder_writes_the_threaded_picture(module, tmp_path):
    pytest.importorskip("ray", reason="the test extra installs ray")
    import subprocess

    size = ["--width", "40", "--height", "30", "--samples", "1"]
    runs = {}
    for name, extra in (("ray", ["--ray", "--bands", "4"]), ("threads", [])):
        out = tmp_path / f"{name}.png"
        runs[name] = subprocess.run([sys.executable, "-m", "bufferable", "demo", *size, *extra,
                                     "--out", str(out)], cwd=tmp_path, capture_output=True,
                                    text=True, timeout=300)
        assert runs[name].returncode == 0, runs[name].stderr
    assert "4 bands on" in runs["ray"].stdout and "bands back: 14.1 KiB" in runs["ray"].stdout
    pictures = [np.asarray(PillowImage.open(tmp_path / f"{n}.png")) for n in ("ray", "threads")]
    np.testing.assert_array_equal(*pictures)


def test_demo_on_ray_without_ray_names_the_extra(module, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    assert cli.main(["--ray", "--width", "8", "--height", "6"]) == 1
    assert "pip install 'bufferable[ray]'" in capsys.readouterr().err
    assert cli.main(["--bands", "3"]) == 2
    assert "--address and --bands go with --ray" in capsys.readouterr().err


# --- bad input -----------------------------------------------------------------------------------


def test_bad_arguments_raise_the_right_class(module):
    background = make_background(16)
    with pytest.raises(TypeError, match="exports no buffer|bytes-like"):
        rendering.render(8, 6, background=object(), progress=None)
    with pytest.raises(TypeError, match="width must be an int"):
        rendering.render("8", 6, background=background, progress=None)
    with pytest.raises(ValueError, match="at least 1"):
        rendering.render(0, 6, background=background, progress=None)
    with pytest.raises(ValueError, match="too large"):
        rendering.render(16385, 6, background=background, progress=None)
    with pytest.raises(ValueError, match="samples_per_side"):
        rendering.render(8, 6, background=background, samples_per_side=17, progress=None)
    with pytest.raises(ValueError, match="thread_count"):
        rendering.render(8, 6, background=background, thread_count=0, progress=None)
    with pytest.raises(TypeError, match="takes 6 arguments"):
        module.render(8, 6, background)
    with pytest.raises(ValueError, match="too large"):
        rendering.blank_image(16384, 16384, progress=None)
    with pytest.raises(TypeError):
        module.Image(4, 4)  # images come from render() and blank_image()


def test_bad_pixel_access_raises_the_right_class(module):
    image = rendering.blank_image(4, 3, progress=None)
    with pytest.raises(IndexError, match=r"pixel \(3, 0\) is outside the 3x4 image"):
        image.pixel(3, 0)
    with pytest.raises(IndexError):
        image.set_pixel(0, -1, (0, 0, 0))
    with pytest.raises(TypeError, match="three values"):
        image.set_pixel(0, 0, (1.0, 2.0))
    with pytest.raises(TypeError, match="must be a number"):
        image.set_pixel(0, 0, (1.0, "x", 2.0))
    with pytest.raises(TypeError, match="takes 2 arguments"):
        image.pixel(0)
    # The short repr every bound type gets (Mojo's own printed every field and pixel).
    assert repr(image) == "<bufferable.demo.raytracer_extension.Image shape=(3, 4, 3) format='f'>"


def test_demo_build_is_reused(module):
    # The module fixture built (or found) the extension: asking again compiles nothing, says
    # nothing, and returns the entry bufferable.build.cached_build keeps in the demo's cache.
    from bufferable.build import cached_path

    said = io.StringIO()
    path = build.build_extension(progress=said)
    assert said.getvalue() == ""
    assert path == cached_path(build.EXTENSION_ROOT, build.cache_dir(), include=[build.MOJO_SOURCE_DIR])
    assert path.is_file() and Path(module.__file__) == path
    # One cache directory per environment: another venv's build never evicts this one.
    assert path.parent.parent == build.cache_dir().parent and path.parent.name != "demo"


# --- the command ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv", [["--width", "0"], ["--height", "20000"], ["--width", "16384", "--height", "16384"],
             ["--samples", "0"], ["--threads", "0"]]
)
def test_demo_command_refuses_bad_sizes_without_rendering(argv, capsys):
    assert cli.main(argv) == 2
    assert "error: --" in capsys.readouterr().err


@pytest.mark.parametrize(
    "seconds, text",
    [(2.414, "2.41 s"), (0.0046, "4.60 ms"), (0.9996e-6, "1.00 us"), (1.07e-6, "1.07 us"), (865e-9, "865 ns")],
)
def test_table_times_use_a_readable_unit(seconds, text):
    assert cli.format_seconds(seconds) == text


def _regenerate() -> None:
    image = _render_small()
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    raytrace.save_png(np.asarray(image), GOLDEN)
    print(f"wrote {GOLDEN}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--regenerate"]:
        _regenerate()
    else:
        print(__doc__)
