"""What the build cache trusts. A cache folder is used only if the current user owns it and no one
else can write to it, a cached build only if the same holds for it: anything else is rebuilt over
(a file) or not used (a folder: the importer falls back to the per-user cache, and a per-user cache
that is not private is an error). A cached build is the build of the inputs its key names: an
input edited while the compiler runs is not stored under the key of the text hashed before.

Most tests build with a fake compiler ($BUFFERABLE_MOJO: a script that copies the source into the
"library", so a build records what it read); the test of another user's planted module uses a
real Mojo module, and runs only as root (it drops to `nobody` to plant it), as CI does."""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from bufferable import build, importer

SOURCE = '@export\ndef PyInit_tiny() abi("C") -> PythonObject:\n    return PythonObject({})\n'

FAKE_MOJO = f"""#!{sys.executable}
# A stand-in for `mojo build ... SOURCE -o OUTPUT`: writes SOURCE's bytes as the library.
# FAKE_MOJO_FAIL: fail instead. FAKE_MOJO_EDIT: first append this line to SOURCE, as an editor
# saving while the compiler runs (only while the file FAKE_MOJO_EDITS exists, if that is set).
import os, sys
args = sys.argv
source, output = args[args.index("-o") - 1], args[args.index("-o") + 1]
if os.environ.get("FAKE_MOJO_FAIL"):
    sys.exit("fake compiler: no build")
edit, edits = os.environ.get("FAKE_MOJO_EDIT"), os.environ.get("FAKE_MOJO_EDITS")
if edit and (not edits or os.path.exists(edits)):
    with open(source, "a") as f:
        f.write(edit + "\\n")
    if edits:
        os.remove(edits)
with open(source, "rb") as f, open(output, "wb") as out:
    out.write(f.read())
"""

ROOT_ONLY = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0,
    reason="needs root: a file or folder of another user is made by switching to (or chown-ing "
           "to) `nobody`, which only root can do (CI runs as root)",
)


@pytest.fixture
def fake_mojo(tmp_path, monkeypatch):
    """$BUFFERABLE_MOJO is the fake compiler; the per-user cache is under tmp_path."""
    script = tmp_path / "fake-mojo"
    script.write_text(FAKE_MOJO)
    script.chmod(0o755)
    monkeypatch.setenv("BUFFERABLE_MOJO", str(script))
    monkeypatch.setenv("BUFFERABLE_CACHE", str(tmp_path / "user-cache"))
    for name in ("FAKE_MOJO_FAIL", "FAKE_MOJO_EDIT", "FAKE_MOJO_EDITS"):
        monkeypatch.delenv(name, raising=False)
    return script


def source_in(directory: Path, value: int = 1) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "tiny.mojo"
    path.write_text(SOURCE.format(value))
    return path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def nobody() -> pwd.struct_passwd:
    return pwd.getpwnam("nobody")


def as_nobody(command: str) -> None:
    subprocess.run(["sh", "-c", command], user=nobody().pw_uid, group=nobody().pw_gid,
                   extra_groups=[], check=True)


@pytest.fixture
def shared_folder():
    """A world-writable folder with the sticky bit, as /tmp (reachable by every user: pytest's
    tmp_path is not)."""
    folder = Path(tempfile.mkdtemp(prefix="bufferable-shared-"))
    folder.chmod(0o1777)
    yield folder
    shutil.rmtree(folder)


# --- cache folders --------------------------------------------------------------------------------

@pytest.mark.parametrize("bits", [0o020, 0o002])
def test_a_cache_folder_others_can_write_is_not_used(tmp_path, fake_mojo, bits):
    source = source_in(tmp_path / "project")
    local = tmp_path / "project" / "__mojocache__"
    local.mkdir(mode=0o700)
    local.chmod(0o755 | bits)
    assert importer.cache_dir_for(source) == build.user_cache_dir("mojo")
    with pytest.raises(build.OutputDirectoryError, match="can write to it"):
        build.cached_build(source, local)
    assert not any(local.iterdir())


def test_cache_folders_are_made_private(tmp_path, fake_mojo):
    source = source_in(tmp_path / "project")
    local = importer.cache_dir_for(source)
    assert local == tmp_path / "project" / "__mojocache__" and mode(local) == 0o700
    # the per-user cache and the parents made for it
    (tmp_path / "project" / "__mojocache__").chmod(0o777)
    user = importer.cache_dir_for(source)
    assert user == build.user_cache_dir("mojo")
    built = build.cached_build(source, user)
    assert built.parent == user
    for made in (user, user.parent, user.parent.parent):
        assert mode(made) == 0o700, made


def test_an_unsafe_user_cache_is_an_import_error(tmp_path, fake_mojo):
    source = source_in(tmp_path / "project")
    (tmp_path / "project" / "__mojocache__").mkdir()
    (tmp_path / "project" / "__mojocache__").chmod(0o777)
    user = build.user_cache_dir("mojo")
    user.mkdir(parents=True)
    user.chmod(0o777)
    with pytest.raises(ImportError, match="can write to it") as raised:
        importer.MojoFinder().find_spec("tiny", [str(source.parent)])
    assert str(user) in str(raised.value) and "BUFFERABLE_CACHE" in str(raised.value)
    assert not any(user.iterdir())


@ROOT_ONLY
def test_a_cache_folder_of_another_user_is_not_used(shared_folder, fake_mojo):
    source = source_in(shared_folder)
    as_nobody(f"mkdir -m 700 {shared_folder}/__mojocache__")
    assert importer.cache_dir_for(source) == build.user_cache_dir("mojo")
    with pytest.raises(build.OutputDirectoryError, match="owned by"):
        build.cached_build(source, shared_folder / "__mojocache__")


# --- cached builds --------------------------------------------------------------------------------

@pytest.mark.parametrize("bits", [0o020, 0o002])
def test_a_cached_build_others_can_write_is_rebuilt(tmp_path, fake_mojo, bits):
    source = source_in(tmp_path)
    planted = build.cached_path(source, tmp_path / "cache")
    planted.parent.mkdir(mode=0o700)
    planted.write_text("planted")
    planted.chmod(0o755 | bits)
    built = build.cached_build(source, tmp_path / "cache")
    assert built == planted and built.read_text() == source.read_text()
    assert mode(built) & 0o022 == 0


def test_a_build_made_under_a_group_writable_umask_is_trusted(tmp_path, fake_mojo, monkeypatch):
    source = source_in(tmp_path)
    previous = os.umask(0o002)
    try:
        built = build.cached_build(source, tmp_path / "cache")
    finally:
        os.umask(previous)
    assert mode(built) & 0o022 == 0
    stamp = built.stat().st_mtime_ns
    monkeypatch.setenv("FAKE_MOJO_FAIL", "1")  # a second build would fail: the first is used
    assert build.cached_build(source, tmp_path / "cache") == built
    assert built.stat().st_mtime_ns == stamp


@ROOT_ONLY
def test_a_cached_build_of_another_user_is_rebuilt(tmp_path, fake_mojo):
    source = source_in(tmp_path)
    planted = build.cached_path(source, tmp_path / "cache")
    planted.parent.mkdir(mode=0o700)
    planted.write_text("planted")
    os.chown(planted, nobody().pw_uid, nobody().pw_gid)
    built = build.cached_build(source, tmp_path / "cache")
    assert built == planted and built.read_text() == source.read_text()
    assert built.stat().st_uid == os.geteuid()


def test_the_demo_does_not_load_an_untrusted_build(tmp_path, fake_mojo):
    from bufferable.demo import build as demo

    planted = build.cached_path(demo.EXTENSION_ROOT, demo.cache_dir(), include=[demo.MOJO_SOURCE_DIR])
    planted.parent.mkdir(mode=0o700, parents=True)
    planted.write_text("planted")
    planted.chmod(0o777)
    assert demo.build_extension(progress=None) == planted
    assert planted.read_text() == demo.EXTENSION_ROOT.read_text()


PLANTED = """
from std.python import PythonObject
from std.python.bindings import PythonModuleBuilder


@export
def PyInit_tiny() abi("C") -> PythonObject:
    print("PLANTED CODE RAN")
    try:
        var m = PythonModuleBuilder("tiny")
        return m.finalize()
    except e:
        return PythonObject()
"""


@ROOT_ONLY
def test_the_importer_never_runs_a_module_another_user_planted(
        shared_folder, tmp_path, monkeypatch, mojo_compiler, mojo_cache_dir):
    # `nobody` makes __mojocache__ first, in a folder everyone can write (as /tmp), and puts a
    # real extension under the name the victim's build of tiny.mojo will have; the victim (root)
    # then imports tiny. Its build must not be loaded (the import builds instead, with a compiler
    # that fails on purpose: nothing is loaded at all).
    evil = tmp_path / "evil" / "tiny.mojo"
    evil.parent.mkdir()
    evil.write_text(PLANTED)
    monkeypatch.delenv("BUFFERABLE_MOJO", raising=False)
    planted_build = build.cached_build(evil, mojo_cache_dir)
    shutil.copy(planted_build, shared_folder / "planted.so")
    script = tmp_path / "fake-mojo"
    script.write_text(FAKE_MOJO)
    script.chmod(0o755)
    env = dict(os.environ, BUFFERABLE_MOJO=str(script), FAKE_MOJO_FAIL="1",
               BUFFERABLE_CACHE=str(tmp_path / "user-cache"))
    monkeypatch.setenv("BUFFERABLE_MOJO", str(script))
    source = source_in(shared_folder)
    name = build.cached_path(source, shared_folder / "__mojocache__").name
    as_nobody(f"cd {shared_folder} && mkdir -m 755 __mojocache__ && "
              f"cp planted.so __mojocache__/{name} && chmod 755 __mojocache__/{name}")
    program = textwrap.dedent("""
        import bufferable.importer
        try:
            import tiny
        except ImportError as e:
            print("IMPORTERROR", e)
    """)
    out = subprocess.run([sys.executable, "-c", program], cwd=shared_folder, env=env,
                         capture_output=True, text=True, timeout=120)
    assert "PLANTED" not in out.stdout + out.stderr
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("IMPORTERROR") and "fake compiler: no build" in out.stdout
    # the control: the planted file is a module that runs its code when loaded
    control = subprocess.run(
        [sys.executable, "-c", "from bufferable.build import load_extension; import sys\n"
                               "load_extension(sys.argv[1], 'tiny')",
         str(shared_folder / "__mojocache__" / name)],
        env=build.compiler_environment(), capture_output=True, text=True, timeout=120)
    assert "PLANTED CODE RAN" in control.stdout, control.stdout + control.stderr


# --- stale builds ---------------------------------------------------------------------------------

def assert_every_build_is_of_its_key(source: Path, cache: Path) -> None:
    """Each cached build (the fake compiler's copy of the text it read) is named by the key of
    that text."""
    text = source.read_bytes()
    try:
        for entry in cache.glob(f"tiny.*{build.extension_suffix()}"):
            source.write_bytes(entry.read_bytes())
            assert entry == build.cached_path(source, cache), entry.read_text()
    finally:
        source.write_bytes(text)


def test_an_edit_during_the_build_is_not_stored_under_the_old_key(tmp_path, fake_mojo, monkeypatch):
    source = source_in(tmp_path / "project")
    cache = tmp_path / "cache"
    original = source.read_text()
    (tmp_path / "edit-once").touch()
    monkeypatch.setenv("FAKE_MOJO_EDIT", "# saved while mojo build ran")
    monkeypatch.setenv("FAKE_MOJO_EDITS", str(tmp_path / "edit-once"))
    built = build.cached_build(source, cache)
    assert built.read_text() == source.read_text() != original  # the build of the edited text
    assert_every_build_is_of_its_key(source, cache)
    source.write_text(original)  # the edit undone: its build, not the edited one
    assert build.cached_build(source, cache).read_text() == original
    assert_every_build_is_of_its_key(source, cache)


def test_inputs_that_keep_changing_are_never_cached(tmp_path, fake_mojo, monkeypatch):
    source = source_in(tmp_path / "project")
    monkeypatch.setenv("FAKE_MOJO_EDIT", "# saved while mojo build ran")
    with pytest.raises(build.MojoBuildError, match="changed while"):
        build.cached_build(source, tmp_path / "cache")
    assert not any((tmp_path / "cache").glob("tiny.*"))
