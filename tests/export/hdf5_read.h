// Reading an HDF5 export back through libhdf5's C API, for the export tests.
#pragma once

#include "core/tensor.h"

#include <hdf5.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace qs::h5r {

inline std::string stringAttr(hid_t obj, const char* name)
{
    const hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) return "<no attribute>";
    const hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    char* p = nullptr;
    std::string s = H5Aread(a, t, &p) < 0 ? "<unreadable>" : std::string(p ? p : "");
    H5free_memory(p);
    H5Tclose(t);
    H5Aclose(a);
    return s;
}

inline std::vector<std::int64_t> intAttr(hid_t obj, const char* name)
{
    const hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) return {-999};
    const hid_t sp = H5Aget_space(a);
    std::vector<std::int64_t> v(static_cast<std::size_t>(H5Sget_simple_extent_npoints(sp)));
    if (!v.empty()) H5Aread(a, H5T_NATIVE_INT64, v.data());
    H5Sclose(sp);
    H5Aclose(a);
    return v;
}

template <typename T>
std::vector<T> dataset(hid_t group, const char* name, hid_t memType, Shape* dims = nullptr)
{
    const hid_t d = H5Dopen2(group, name, H5P_DEFAULT);
    if (d < 0) return {};
    const hid_t sp = H5Dget_space(d);
    if (dims) {
        hsize_t buf[8];
        const int n = H5Sget_simple_extent_dims(sp, buf, nullptr);
        dims->assign(buf, buf + std::max(n, 0));
    }
    std::vector<T> v(static_cast<std::size_t>(H5Sget_simple_extent_npoints(sp)));
    if (!v.empty()) H5Dread(d, memType, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
    H5Sclose(sp);
    H5Dclose(d);
    return v;
}

} // namespace qs::h5r
