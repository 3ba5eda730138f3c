# Patterns for nanobind's stubgen (CMakeLists.txt, bufferable_add_stub): each query is a regular
# expression on a qualified name, and the indented lines replace that name's stub entry.

# Capsule attributes: stubgen writes their runtime type's name (PyCapsule), which no module defines.
# Every module's stub (lower-case names; classes are capitalized) imports the type to use instead.
^bufferable(\.[a-z0-9_]+)+\.__prefix__$:
    from typing_extensions import CapsuleType

\._C_API$:
    _C_API: CapsuleType

\.__dlpack_c_exchange_api__$:
    __dlpack_c_exchange_api__: CapsuleType

# The contract's (major, minor) version, whatever its value.
^bufferable\._core\.API_VERSION$:
    API_VERSION: tuple[int, int]
