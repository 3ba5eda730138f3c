# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""The Cython peer: what a Cython author writes instead of bufferable.

``Grid`` is a rows x cols float64 grid exported through ``__getbuffer__`` /
``__releasebuffer__`` (the Cython documentation's Matrix example, 2-D); the
functions take typed memoryviews of any 2-D float64 buffer: acquire-and-return
and sums with four accumulators, C-contiguous (``::1``) and strided.
"""
from cpython.buffer cimport PyBUF_FORMAT
from libc.stdlib cimport calloc, free


cdef class Grid:
    """A rows x cols grid of float64 (zeros) that Python sees as a buffer."""

    cdef double *cells
    cdef Py_ssize_t shape[2]
    cdef Py_ssize_t strides[2]
    cdef int exports

    def __cinit__(self, Py_ssize_t rows, Py_ssize_t cols):
        self.cells = <double *>calloc(max(rows * cols, 1), sizeof(double))
        if self.cells == NULL:
            raise MemoryError()
        self.shape[0] = rows
        self.shape[1] = cols
        self.strides[0] = cols * sizeof(double)
        self.strides[1] = sizeof(double)

    def __dealloc__(self):
        free(self.cells)

    def __getbuffer__(self, Py_buffer *buffer, int flags):
        buffer.buf = self.cells
        buffer.format = NULL
        if flags & PyBUF_FORMAT:
            buffer.format = b'd'
        buffer.internal = NULL
        buffer.itemsize = sizeof(double)
        buffer.len = self.shape[0] * self.shape[1] * sizeof(double)
        buffer.ndim = 2
        buffer.obj = self
        buffer.readonly = 0
        buffer.shape = self.shape
        buffer.strides = self.strides
        buffer.suboffsets = NULL
        self.exports += 1

    def __releasebuffer__(self, Py_buffer *buffer):
        self.exports -= 1

    @property
    def live_exports(self):
        """Exports not released yet."""
        return self.exports


def acquire_strided(double[:, :] a):
    """Takes a typed view of any 2-D float64 buffer; returns its row count."""
    return a.shape[0]


def acquire_contiguous(double[:, ::1] a):
    """Takes a typed C-contiguous view; returns its row count."""
    return a.shape[0]


def sum_contiguous(const double[:, ::1] a):
    """Sum of a C-contiguous 2-D float64 buffer, four accumulators."""
    cdef Py_ssize_t n = a.shape[0] * a.shape[1]
    cdef const double *p = &a[0, 0] if n else NULL
    cdef Py_ssize_t i = 0
    cdef double s0 = 0, s1 = 0, s2 = 0, s3 = 0
    while i + 4 <= n:
        s0 += p[i]
        s1 += p[i + 1]
        s2 += p[i + 2]
        s3 += p[i + 3]
        i += 4
    while i < n:
        s0 += p[i]
        i += 1
    return (s0 + s1) + (s2 + s3)


def sum_strided(const double[:, :] a):
    """Sum of any 2-D float64 buffer, row by row, four accumulators."""
    cdef Py_ssize_t rows = a.shape[0], cols = a.shape[1]
    cdef Py_ssize_t r, j
    cdef double s0 = 0, s1 = 0, s2 = 0, s3 = 0
    for r in range(rows):
        j = 0
        while j + 4 <= cols:
            s0 += a[r, j]
            s1 += a[r, j + 1]
            s2 += a[r, j + 2]
            s3 += a[r, j + 3]
            j += 4
        while j < cols:
            s0 += a[r, j]
            j += 1
    return (s0 + s1) + (s2 + s3)


def noop(a):
    """Does nothing with one argument (the calls benchmark)."""
    pass


def noop3(a, b, c):
    """Does nothing with three arguments."""
    pass


def total(double[:, :] a):
    """Sums any 2-D float64 buffer element by element (the README's loop)."""
    cdef Py_ssize_t i, j
    cdef double s = 0
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            s += a[i, j]
    return s
