// The pybind11 peer: what a C++ author using pybind11 writes instead of bufferable.
//
// `Grid` is a rows x cols float64 grid bound with py::class_ and exported through def_buffer
// (pybind11 builds a py::buffer_info per export and fills the Py_buffer from it).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <vector>

namespace py = pybind11;

struct Grid {
    std::vector<double> cells;
    py::ssize_t rows, cols;

    Grid(py::ssize_t rows, py::ssize_t cols) : cells(size_t(rows * cols), 0.0), rows(rows), cols(cols) {}
};

// The calls benchmark: a no-op with one and three arguments, and a sum of any 2-D float64 array
// element by element (no conversion: a float64 array is taken as it is, strides included).
static double total(py::array_t<double, 0> a) {
    auto v = a.unchecked<2>();
    double s = 0;
    for (py::ssize_t i = 0; i < v.shape(0); i++)
        for (py::ssize_t j = 0; j < v.shape(1); j++)
            s += v(i, j);
    return s;
}

PYBIND11_MODULE(peer_pybind11, m) {
    m.def("noop", [](py::handle) {});
    m.def("noop3", [](py::handle, py::handle, py::handle) {});
    m.def("total", &total);
    m.def("rows", [](py::array_t<double, 0> a) { return a.shape(0); });
    py::class_<Grid>(m, "Grid", py::buffer_protocol())
        .def(py::init<py::ssize_t, py::ssize_t>())
        .def_buffer([](Grid &g) -> py::buffer_info {
            return py::buffer_info(g.cells.data(), sizeof(double), py::format_descriptor<double>::format(), 2,
                                   {g.rows, g.cols}, {py::ssize_t(g.cols * sizeof(double)), py::ssize_t(sizeof(double))});
        });
}
