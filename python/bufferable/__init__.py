"""bufferable: zero-copy memory sharing between Mojo, C/C++ and Python."""
from . import _core

__version__ = "0.1.0"
