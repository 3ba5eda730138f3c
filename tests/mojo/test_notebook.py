"""Mojo cells in Jupyter (``%load_ext bufferable``, ``%%mojo``): the docs notebook and the magic's
error cases, run by nbclient in a real ipykernel whose kernelspec starts this venv's python by its
path (the venv neither activated nor on PATH, as Jupyter starts a kernel).

``python tests/mojo/test_notebook.py --execute`` executes docs/bufferable-in-jupyter.ipynb the same
way and stores it with its outputs (do it after changing the notebook, and look at it).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from bufferable import notebook

DOCS_NOTEBOOK = Path(__file__).resolve().parents[2] / "docs" / "bufferable-in-jupyter.ipynb"
KERNEL = "bufferable-test-kernel"


def _kernelspec(root: Path) -> dict[str, str]:
    """A kernelspec under ``root`` that starts this venv's python by path; the environment to
    run the kernel in (this one, with the venv off PATH and not activated)."""
    spec = root / "kernels" / KERNEL
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"Python {sys.version_info.major}.{sys.version_info.minor} (bufferable tests)",
        "language": "python",
    }))
    venv_bin = Path(sys.executable).parent.resolve()
    path = [p for p in os.environ.get("PATH", "").split(os.pathsep)
            if p and Path(p).resolve() != venv_bin]
    return {"JUPYTER_PATH": str(root), "PATH": os.pathsep.join(path)}


def execute(nb: nbformat.NotebookNode, cwd: Path, root: Path, *, allow_errors: bool = False) -> None:
    """Run every cell of ``nb`` in a fresh kernel (its outputs are stored in ``nb``)."""
    saved = dict(os.environ)
    try:
        os.environ.update(_kernelspec(root))
        os.environ.pop("VIRTUAL_ENV", None)
        NotebookClient(nb, kernel_name=KERNEL, timeout=900, allow_errors=allow_errors,
                       resources={"metadata": {"path": str(cwd)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _text(cell: nbformat.NotebookNode) -> str:
    """What a cell printed (streams, results; an error's name, message and traceback)."""
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type in ("execute_result", "display_data"):
            parts.append(output.data.get("text/plain", ""))
        elif output.output_type == "error":
            parts.append(f"{output.ename}: {output.evalue}\n" + "\n".join(output.traceback))
    return "".join(parts)


def _error(cell: nbformat.NotebookNode) -> nbformat.NotebookNode | None:
    return next((o for o in cell.get("outputs", []) if o.output_type == "error"), None)


# --- the docs notebook ---------------------------------------------------------------------------


def test_docs_notebook_is_stored_executed():
    nb = nbformat.read(DOCS_NOTEBOOK, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code and all(cell.execution_count for cell in code), "store the notebook executed (--execute)"
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1))
    assert not any(_error(cell) for cell in code)
    assert any("image/png" in o.get("data", {}) for o in code[-1].outputs), "the rendered image is shown inline"


def test_docs_notebook_runs(tmp_path):
    nb = nbformat.read(DOCS_NOTEBOOK, as_version=4)
    execute(nb, tmp_path, tmp_path / "jupyter")  # raises CellExecutionError on any error
    printed = "\n".join(_text(cell) for cell in nb.cells if cell.cell_type == "code")
    assert "same memory: True" in printed
    assert "66.0 66.0 30.0 30.0" in printed  # grid.total of the Grid, its array, a strided slice
    assert "matches numpy: True | odd elements untouched: True" in printed
    assert "float32 (240, 320, 3) (5120, 16, 4) | same memory: True" in printed
    image = [o for o in nb.cells[-1].outputs if "image/png" in o.get("data", {})]
    assert image, "the rendered image is not displayed inline"
    import base64
    import io

    from PIL import Image

    shown = Image.open(io.BytesIO(base64.b64decode(image[0].data["image/png"])))
    assert shown.size == (320, 240)


# --- the magic, as a user gets it wrong ----------------------------------------------------------

_MODULE = '''%%mojo{options}
from std.python import PythonObject
from std.python.bindings import PythonModuleBuilder

from bufferable import (
    Buffer, BufferFlags, Bufferable, ExportCounter, add_buffer_protocol, finalize_module,
    module_init_error,
)


struct Cells(Bufferable, Writable):
    var values: List[Float64]
    var shape: Array[Int64, 1]
    var exports: ExportCounter

    def __init__(out self, n: Int):
        self.values = List[Float64](length=n, fill={fill})
        self.shape = Array[Int64, 1](fill=Int64(n))
        self.exports = ExportCounter()

    def __init__(out self, *, deinit move: Self):
        self.values = move.values^
        self.shape = move.shape^
        self.exports = move.exports^

    def write_to(self, mut w: Some[Writer]):
        w.write("Cells(", self.shape[0], ")")

    def __buffer__(mut self, flags: BufferFlags) raises -> Buffer:
        self.exports.acquire()
        return Buffer(self.values.unsafe_ptr(), Span(self.shape))

    def __release_buffer__(mut self, buffer: Buffer):
        self.exports.release()

    @staticmethod
    def py_init(out self: Cells, args: PythonObject, kwargs: PythonObject) raises:
        self = Cells(Int(py=args[0]))


@export
def PyInit_cells() abi("C") -> PythonObject:
    try:
        var m = PythonModuleBuilder("cells")
        ref t = m.add_type[Cells]("Cells").def_py_init[Cells.py_init]()
        add_buffer_protocol[Cells](t)
        return finalize_module(m)
    except e:
        return module_init_error(e)
'''

# Line 5 of the cell (the %%mojo line is line 1) uses a name nothing defines, at column 12.
_COMPILE_ERROR = '''%%mojo
from std.python import PythonObject

def answer() -> Int:
    return undefined_name + 1

@export
def PyInit_broken() abi("C") -> PythonObject:
    return PythonObject(answer())
'''


# A cell that binds a type of the bufferable package itself (the same Mojo type in every version).
_VIEWS = '''%%mojo
from std.python import PythonObject
from std.python.bindings import PythonModuleBuilder
from bufferable import MemoryView, add_buffer_protocol, finalize_module, module_init_error

@export
def PyInit_views() abi("C") -> PythonObject:
    try:
        var m = PythonModuleBuilder("views")
        ref t = m.add_type[MemoryView[DType.float64, 1]]("{name}")
        add_buffer_protocol[MemoryView[DType.float64, 1]](t)
        return finalize_module(m)
    except e:
        return module_init_error(e)
'''


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    """One kernel runs the cases in order, as a user would (errors do not stop it)."""
    cells = [
        "%load_ext bufferable\nimport numpy as np",
        _MODULE.format(options="", fill="1.0"),                                    # 1: first version
        "old_module, old = cells, cells.Cells(3)\nprint(np.asarray(old).tolist())",
        _MODULE.format(options=" -O 2 --debug-level line-tables", fill="2.0"),    # 3: edited
        "new = cells.Cells(2)\n"
        "import cells as imported\n"
        "print(np.asarray(old).tolist(), np.asarray(new).tolist(), cells is not old_module,\n"
        "      type(old) is not type(new), imported is cells, type(old).__name__ == type(new).__name__)",
        _MODULE.format(options=" -O 2 --debug-level line-tables", fill="2.0"),    # 5: run again
        "print(cells is imported)",
        _COMPILE_ERROR,                                                            # 7
        "print('kernel alive', 6 * 7, 'broken' in globals())",
        "%%mojo\ndef f() -> Int:\n    return 1\n",                                 # 9: no module
        _MODULE.format(options=" -O 7", fill="1.0"),                               # 10: bad option
        _MODULE.format(options=" --name other", fill="1.0"),                       # 11: no such module
        "%%mojo\n@export\ndef PyInit_a() abi(\"C\") -> PythonObject:\n    pass\n"
        "@export\ndef PyInit_b() abi(\"C\") -> PythonObject:\n    pass\n",          # 12: two modules
        "print('still alive', np.asarray(old).sum(), np.asarray(new).sum())",
        _VIEWS.format(name="View1D"),                                              # 14
        _VIEWS.format(name="View1DAgain"),                                         # 15: the limit
        "print(views.View1D.__name__)",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    root = tmp_path_factory.mktemp("notebook-cases")
    execute(nb, root, root / "jupyter", allow_errors=True)
    return nb.cells


def test_cell_binds_the_module_and_numpy_views_it(session):
    assert _error(session[1]) is None, _text(session[1])
    assert _text(session[2]).strip() == "[1.0, 1.0, 1.0]"


def test_edited_cell_is_a_new_module_and_old_objects_keep_working(session):
    # The edited cell defines the same struct again: it is a new Mojo type in a new module (Mojo
    # binds a Mojo type to one Python type per process); `cells` and `import cells` name the new.
    assert _error(session[3]) is None, _text(session[3])
    assert _text(session[4]).split() == ["[1.0,", "1.0,", "1.0]", "[2.0,", "2.0]", "True", "True",
                                         "True", "True"]


def test_unchanged_cell_reuses_the_loaded_module(session):
    assert _error(session[5]) is None, _text(session[5])
    assert _text(session[6]).strip() == "True"


def test_compile_error_is_located_in_the_cell_and_the_kernel_lives(session):
    error = _error(session[7])
    assert error is not None and error.ename == "MojoCellError"
    text = "\n".join(error.traceback)
    assert "broken failed to compile" in text
    assert "cell:5:12: error: use of unknown declaration 'undefined_name'" in text, text
    assert "bufferable-cell-" not in text and "broken_" not in text  # no temporary names
    assert "notebook.py" not in text, "the user sees the compiler's message, not the magic's frames"
    assert _text(session[8]).strip() == "kernel alive 42 False"


def test_cell_without_a_module_says_what_a_cell_is(session):
    error = _error(session[9])
    assert error is not None and error.ename == "MojoCellError"
    assert "defines no module" in error.evalue and "PyInit_<name>" in "\n".join(error.traceback)


def test_bad_options_and_names_are_refused_before_compiling(session):
    assert "argument -O: invalid choice: 7" in _error(session[10]).evalue
    assert "the cell defines no PyInit_other (it defines PyInit_cells)" in _error(session[11]).evalue
    assert "several modules (PyInit_a, PyInit_b): choose one with --name" in _error(session[12]).evalue
    assert _text(session[13]).strip() == "still alive 3.0 4.0"


# --- the pieces, in this process -----------------------------------------------------------------


@pytest.mark.parametrize("line, flags", [
    ("", []),
    ("-O0", ["--optimization-level=0"]),
    ("-O 3 -g", ["--optimization-level=3", "--debug-level=full"]),
    ("--debug-level none -D SIZE=4 -D MODE=fast", ["--debug-level=none", "-DSIZE=4", "-DMODE=fast"]),
])
def test_options_become_compiler_flags(line, flags):
    assert notebook._flags(notebook._parser().parse_args(line.split())) == flags


@pytest.mark.parametrize("line", ["-O 4", "--debug-level all", "-o out.so", "-D 4=x", "extra"])
def test_bad_options_are_cell_errors(line):
    with pytest.raises(notebook.MojoCellError, match="%%mojo"):
        notebook._flags(notebook._parser().parse_args(line.split()))


def test_module_name_comes_from_the_init_function():
    cell = 'from std.python import PythonObject\n# def PyInit_comment()\n@export\ndef PyInit_grid() abi("C") -> PythonObject:\n'
    assert notebook._module_name(cell, None) == "grid"
    assert notebook._module_name(cell, "grid") == "grid"
    with pytest.raises(notebook.MojoCellError, match="not an ASCII Python identifier"):
        notebook._module_name(cell, "café")


def test_compiler_locations_are_mapped_to_the_cell(tmp_path):
    stem = "grid_0123456789ab"
    source = tmp_path / f"{stem}.mojo"
    source.write_text(f'x = 1\ndef PyInit_{stem}() abi("C") -> PythonObject: return nope\n')
    output = (f"{source}:2:{len('def PyInit_') + len(stem) + 42}: error: use of unknown declaration 'nope'\n"
              f"{source}:1: note: here\nin {tmp_path}: module {stem}")
    mapped = notebook._located_in_cell(output, source, "grid", stem)
    assert mapped == (f"cell:3:{len('def PyInit_grid') + 42}: error: use of unknown declaration 'nope'\n"
                      "cell:2: note: here\nin <cell>: module grid")


def test_a_package_type_bound_by_two_versions_of_a_cell_is_an_import_error(session):
    # The documented limit (bufferable.notebook): MemoryView[DType.float64, 1] is one Mojo type
    # whatever the cell's module is called, and Mojo 1.2.0 binds it to one Python type per process.
    assert _error(session[14]) is None, _text(session[14])
    error = _error(session[15])
    assert error is not None and error.ename == "MojoCellError"
    assert "views compiled but failed to import: Error building multiple Python type objects bound " \
           "to Mojo type with id: bufferable.memory_view.MemoryView" in error.evalue
    assert _text(session[16]).strip() == "View1D"  # the first version stays bound, the kernel lives


if __name__ == "__main__":
    if sys.argv[1:] != ["--execute"]:
        sys.exit(f"usage: python {sys.argv[0]} --execute   (re-executes {DOCS_NOTEBOOK} and stores it)")
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        nb = nbformat.read(DOCS_NOTEBOOK, as_version=4)
        execute(nb, Path(scratch), Path(scratch) / "jupyter")
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, DOCS_NOTEBOOK)
    print(f"executed and stored {DOCS_NOTEBOOK}")
