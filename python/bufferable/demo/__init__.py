"""The bufferable demo: a ray tracer written in Mojo, handed to numpy without a copy.

`python -m bufferable demo` (or `python -m bufferable.demo`) compiles the Mojo
extension on first use (with `bufferable.build`, cached under
~/.cache/bufferable/demo/<environment>), renders a scene of spheres on a checkerboard under a
procedural sky that Mojo reads from numpy in place (a `MemoryView`), views the
rendered Mojo image from numpy without a copy, writes it as PNG, and prints the
render time next to the cost of handing the image to numpy with and without a
copy.

Modules: `cli` (the command), `rendering` (render / blank images / save from
Python), `build` (compile, cache and import the Mojo extension), `background`
(the procedural sky).
The Mojo sources are in the `mojo/` directory beside this file.
"""

from .cli import main

__all__ = ["main"]
