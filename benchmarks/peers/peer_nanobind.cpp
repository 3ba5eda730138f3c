// The nanobind peer: what a C++ author using nanobind writes instead of bufferable.
//
// `Grid` is a rows x cols float64 grid bound with nb::class_ and given the buffer protocol through
// nb::type_slots (a bf_getbuffer / bf_releasebuffer pair filling the Py_buffer by hand).
// `Grid.numpy()` returns an nb::ndarray<nb::numpy> over the same memory (a new numpy array per
// call, owned by the Grid); `Grid.ndarray()` returns an nb::ndarray<nb::array_api>, which Python
// sees as nanobind's own nb_ndarray object (buffer protocol, __dlpack__ and __dlpack_device__).
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <vector>

namespace nb = nanobind;

struct Grid {
    std::vector<double> cells;
    Py_ssize_t shape[2];
    Py_ssize_t strides[2];
    int exports = 0;

    Grid(Py_ssize_t rows, Py_ssize_t cols)
        : cells(size_t(rows * cols), 0.0), shape{rows, cols},
          strides{Py_ssize_t(cols * sizeof(double)), Py_ssize_t(sizeof(double))} {}
};

static int grid_getbuffer(PyObject *self, Py_buffer *view, int flags) {
    Grid *g = nb::inst_ptr<Grid>(self);
    view->buf = g->cells.data();
    view->obj = Py_NewRef(self);
    view->len = Py_ssize_t(g->cells.size() * sizeof(double));
    view->itemsize = sizeof(double);
    view->readonly = 0;
    view->ndim = 2;
    view->format = (flags & PyBUF_FORMAT) ? (char *) "d" : nullptr;
    view->shape = g->shape;
    view->strides = g->strides;
    view->suboffsets = nullptr;
    view->internal = nullptr;
    g->exports++;
    return 0;
}

static void grid_releasebuffer(PyObject *self, Py_buffer *) { nb::inst_ptr<Grid>(self)->exports--; }

static PyType_Slot grid_slots[] = {
    {Py_bf_getbuffer, (void *) grid_getbuffer},
    {Py_bf_releasebuffer, (void *) grid_releasebuffer},
    {0, nullptr},
};

using Array2D = nb::ndarray<nb::array_api, double, nb::ndim<2>, nb::c_contig>;
using Numpy2D = nb::ndarray<nb::numpy, double, nb::ndim<2>, nb::c_contig>;
using Any2D = nb::ndarray<const double, nb::ndim<2>, nb::device::cpu>;

// The calls benchmark: a no-op with one and three arguments, and a sum of any 2-D float64 buffer
// element by element (strided access through the ndarray's view).
static double total(Any2D a) {
    auto v = a.view();
    double s = 0;
    for (size_t i = 0; i < v.shape(0); i++)
        for (size_t j = 0; j < v.shape(1); j++)
            s += v(i, j);
    return s;
}

NB_MODULE(peer_nanobind, m) {
    m.def("noop", [](nb::handle) {});
    m.def("noop3", [](nb::handle, nb::handle, nb::handle) {});
    m.def("total", &total);
    m.def("rows", [](Any2D a) { return a.shape(0); });
    nb::class_<Grid>(m, "Grid", nb::type_slots(grid_slots))
        .def(nb::init<Py_ssize_t, Py_ssize_t>())
        .def_prop_ro("live_exports", [](const Grid &g) { return g.exports; })
        .def("numpy", [](Grid &g) { return Numpy2D(g.cells.data(), {size_t(g.shape[0]), size_t(g.shape[1])}); },
             nb::rv_policy::reference_internal)
        .def("ndarray", [](Grid &g) { return Array2D(g.cells.data(), {size_t(g.shape[0]), size_t(g.shape[1])}); },
             nb::rv_policy::reference_internal);
}
