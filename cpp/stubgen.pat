# Patterns for nanobind's stubgen (CMakeLists.txt, bufferable_add_stub): each query is a regular
# expression on a qualified name, and the indented lines replace that name's stub entry.

# The C API capsule: stubgen writes its runtime type's name (PyCapsule), which no module defines.
^bufferable\._core\._C_API$:
    _C_API: CapsuleType

^bufferable\._core\.__prefix__$:
    from typing_extensions import CapsuleType

# The contract's (major, minor) version, whatever its value.
^bufferable\._core\.API_VERSION$:
    API_VERSION: tuple[int, int]
