"""bufferable: Mojo structs that Python sees as buffers, with no copy.

Implement `Bufferable` (describe the memory in `__buffer__`, be told in
`__release_buffer__` when a consumer is done), bind the struct with Mojo's
`PythonModuleBuilder`, and call `add_buffer_protocol[T]` on its type
builder. `memoryview(obj)` and `numpy.asarray(obj)` then share the struct's
memory; `to_numpy(value)` does it from Mojo. `bind_function[f](module,
"name", "a", ...)` binds a function with typed parameters (a `MemoryView` of
any buffer, scalars, strings, ...) and result.

Build with `mojo build -I $(python -m bufferable --mojo-path) ...`, or
`python -m bufferable build mod.mojo`, or `import bufferable.importer`.
"""

from .buffer import Buffer, BufferFlags, format_of
from .bufferable import Bufferable
from .export_counter import ExportCounter
from .errors import (
    buffer_error,
    index_error,
    pending_python_error,
    reworded,
    type_error,
    value_error,
)
from .bindings import (
    add_buffer_protocol,
    finalize_module,
    fix_dealloc,
    module_init_error,
)
from .calls import Arguments, py_function, py_method
from .typed_calls import (
    FromPython,
    ToPython,
    bind_function,
    bind_method,
    expected_error,
    type_name_of,
)
from .numpy import to_numpy
from .python_ops import (
    py_call,
    py_call_method,
    py_call_with,
    py_float,
    py_getattr,
    py_getitem,
    py_import,
    py_index,
)
from .layout import MemoryLayout
from .memory_view import MemoryView
from .record_format import record_format_of
from .records import Records
from .record_view import RecordView
from .table import add_table_protocol
from .table_view import TableView
