// HDF5 export through libhdf5's C API: one group per tensor with `codes`, `scales`, `zeros`
// (or `values`) datasets and attributes that describe the format.
#include "core/error.h"
#include "export/export.h"
#include "export/export_detail.h"
#include "io/hdf5_file.h"

#include <algorithm>
#include <cstring>
#include <functional>

namespace qs {
namespace {

using exporting::quoteName;
using h5::Handle;
using json = nlohmann::ordered_json;

constexpr std::int64_t kRowBlockElems = std::int64_t{1} << 20;

// HDF5 link names cannot hold '/' (the path separator) or NUL, and "." is the group itself:
// those and '%' are percent-encoded, so distinct tensor names stay distinct groups.
std::string groupName(const std::string& name)
{
    if (name.empty()) return "%";
    if (name == ".") return "%2E";
    std::string out;
    for (const char c : name) {
        if (c == '%')
            out += "%25";
        else if (c == '/')
            out += "%2F";
        else if (c == '\0')
            out += "%00";
        else
            out += c;
    }
    return out;
}

// IEEE-style floats of other widths as HDF5 describes them (h5py does the same for float16);
// readers convert them to float32 on read.
Handle floatType(std::size_t signPos, std::size_t expBits, std::size_t mantBits, std::size_t bias)
{
    Handle t(H5Tcopy(H5T_IEEE_F32LE), H5Tclose);
    H5Tset_fields(t.get(), signPos, mantBits, expBits, 0, mantBits);
    H5Tset_size(t.get(), (signPos + 1) / 8);
    H5Tset_ebias(t.get(), bias);
    return t;
}

// The file type for elements of a dtype (whose bytes are little-endian in memory too).
Handle typeFor(DType t)
{
    const auto copy = [](hid_t id) { return Handle(H5Tcopy(id), H5Tclose); };
    switch (t) {
    case DType::F64:
        return copy(H5T_IEEE_F64LE);
    case DType::F32:
        return copy(H5T_IEEE_F32LE);
    case DType::F16:
        return floatType(15, 5, 10, 15);
    case DType::BF16:
        return floatType(15, 8, 7, 127);
    case DType::I64:
        return copy(H5T_STD_I64LE);
    case DType::I32:
        return copy(H5T_STD_I32LE);
    case DType::I16:
        return copy(H5T_STD_I16LE);
    case DType::I8:
        return copy(H5T_STD_I8LE);
    default: // U8, BOOL, block bytes
        return copy(H5T_STD_U8LE);
    }
}

class Writer
{
public:
    Writer(std::string out, hid_t file) : m_out(std::move(out)), m_file(file) {}

    Handle group(const TensorInfo& t)
    {
        return Handle(h5::check(H5Gcreate2(m_file, groupName(t.name).c_str(), H5P_DEFAULT,
                                           H5P_DEFAULT, H5P_DEFAULT),
                                m_out, "cannot create the group of tensor " + quoteName(t.name)),
                      H5Gclose);
    }

    // JSON scalars and integer arrays become typed attributes, anything else its JSON text;
    // null means "not applicable" and is left out.
    void attributes(hid_t object, const json& d)
    {
        for (const auto& [key, v] : d.items()) {
            const bool integers =
                v.is_array() && std::all_of(v.begin(), v.end(),
                                            [](const json& x) { return x.is_number_integer(); });
            if (v.is_null()) {
                continue;
            } else if (v.is_boolean()) {
                const std::uint8_t b = v.get<bool>() ? 1 : 0;
                attribute(object, key, H5T_STD_U8LE, {}, &b);
            } else if (v.is_number_integer()) {
                const std::int64_t i = v.get<std::int64_t>();
                attribute(object, key, H5T_STD_I64LE, {}, &i);
            } else if (v.is_number()) {
                const double x = v.get<double>();
                attribute(object, key, H5T_IEEE_F64LE, {}, &x);
            } else if (integers) {
                const auto values = v.get<std::vector<std::int64_t>>();
                attribute(object, key, H5T_STD_I64LE, {static_cast<std::int64_t>(values.size())},
                          values.data());
            } else {
                Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
                H5Tset_size(type.get(), H5T_VARIABLE);
                H5Tset_cset(type.get(), H5T_CSET_UTF8);
                const std::string s = v.is_string() ? v.get<std::string>() : v.dump();
                const char* p = s.c_str();
                attribute(object, key, type.get(), {}, &p);
            }
        }
    }

    // A dataset of `shape` whose row-major elements `fill(first, count, out)` produces, written
    // a block of whole rows (of the first axis) at a time.
    void dataset(hid_t group, const std::string& name, hid_t type, const Shape& shape,
                 std::size_t elemSize, const json& attrs,
                 const std::function<void(std::int64_t, std::int64_t, std::byte*)>& fill)
    {
        const std::string what = "dataset " + quoteName(name) + " of tensor " + m_tensor;
        Handle space = dataspace(shape);
        Handle ds(h5::check(H5Dcreate2(group, name.c_str(), type, space.get(), H5P_DEFAULT,
                                       H5P_DEFAULT, H5P_DEFAULT),
                            m_out, "cannot create " + what),
                  H5Dclose);
        attributes(ds.get(), attrs);
        const std::int64_t n = shapeNumel(shape);
        if (n == 0) return;
        if (shape.empty()) { // a scalar
            std::byte buf[8];
            fill(0, 1, buf);
            write(ds.get(), type, H5S_ALL, H5S_ALL, buf, what);
            return;
        }
        const std::int64_t row = n / shape[0];
        const std::int64_t rows =
            std::max<std::int64_t>(1, kRowBlockElems / std::max<std::int64_t>(row, 1));
        std::vector<std::byte> buf(static_cast<std::size_t>(std::min(rows, shape[0]) * row) *
                                   elemSize);
        std::vector<hsize_t> start(shape.size(), 0), count(shape.begin(), shape.end());
        for (std::int64_t r = 0; r < shape[0]; r += rows) {
            const std::int64_t nr = std::min(rows, shape[0] - r);
            fill(r * row, nr * row, buf.data());
            start[0] = static_cast<hsize_t>(r);
            count[0] = static_cast<hsize_t>(nr);
            H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(),
                                nullptr);
            Handle mem = dataspace(Shape{nr * row});
            write(ds.get(), type, mem.get(), space.get(), buf.data(), what);
        }
    }

    void setTensor(const std::string& name) { m_tensor = quoteName(name); }

private:
    Handle dataspace(const Shape& shape)
    {
        if (shape.empty()) return Handle(H5Screate(H5S_SCALAR), H5Sclose);
        std::vector<hsize_t> dims(shape.begin(), shape.end());
        return Handle(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                      H5Sclose);
    }

    void attribute(hid_t object, const std::string& name, hid_t type, const Shape& shape,
                   const void* data)
    {
        const std::string what = "attribute " + quoteName(name) + " of tensor " + m_tensor;
        Handle space = dataspace(shape);
        Handle a(
            h5::check(H5Acreate2(object, name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                      m_out, "cannot create " + what),
            H5Aclose);
        if (shapeNumel(shape) > 0 && H5Awrite(a.get(), type, data) < 0)
            h5::fail(m_out, "cannot write " + what);
    }

    void write(hid_t ds, hid_t type, hid_t mem, hid_t file, const void* data,
               const std::string& what)
    {
        if (H5Dwrite(ds, type, mem, file, H5P_DEFAULT, data) < 0)
            h5::fail(m_out, "cannot write " + what);
    }

    std::string m_out, m_tensor;
    hid_t m_file;
};

// One byte array (codes, a scale or zero-point vector) as a 1-D dataset.
void writePart(Writer& w, hid_t group, const exporting::StoredPart& p)
{
    const Handle type = typeFor(p.dtype);
    const std::size_t es = dtypeSize(p.dtype);
    w.dataset(group, p.role, type.get(), {p.count}, es, {{"encoding", p.encoding}},
              [&](std::int64_t first, std::int64_t count, std::byte* out) {
                  std::memcpy(out, p.bytes.data() + static_cast<std::size_t>(first) * es,
                              static_cast<std::size_t>(count) * es);
              });
}

void writeKept(Writer& w, hid_t group, const std::string& out, const Model& source,
               const TensorInfo& t)
{
    json d = {{"name", t.name}, {"format", "keep"}};
    if (isBlockType(t.dtype)) { // ggml blocks of a GGUF source, as codes
        const exporting::KeptReader r(out, source, t, false);
        json desc = exporting::describeKeptBlocks(t, static_cast<std::int64_t>(r.byteSize()));
        desc["name"] = t.name;
        w.attributes(group, desc);
        const Handle type = typeFor(DType::U8);
        w.dataset(group, "codes", type.get(), {static_cast<std::int64_t>(r.byteSize())}, 1,
                  {{"encoding", "ggml-blocks"}},
                  [&](std::int64_t first, std::int64_t count, std::byte* out) {
                      r.read(first, count, out);
                  });
        return;
    }
    // HDF5 describes every plain type except the fp8 ones (E4M3 has no infinities, which an
    // HDF5 float type cannot express): those become float32.
    const bool toF32 = t.dtype == DType::F8_E4M3 || t.dtype == DType::F8_E5M2;
    const exporting::KeptReader r(out, source, t, toF32);
    d["shape"] = t.shape;
    d["dtype"] = std::string(dtypeName(t.dtype));
    d["stored_as"] = toF32 ? "F32" : std::string(dtypeName(t.dtype));
    w.attributes(group, d);
    const Handle type = typeFor(toF32 ? DType::F32 : t.dtype);
    w.dataset(
        group, "values", type.get(), t.shape, r.elementSize(), json::object(),
        [&](std::int64_t first, std::int64_t count, std::byte* out) { r.read(first, count, out); });
}

void writeEncoded(Writer& w, hid_t group, const TensorInfo& t, const QuantSpec& spec,
                  const EncodedTensor& enc)
{
    json d = exporting::describe(t, spec);
    d["name"] = t.name;
    w.attributes(group, d);
    const auto parts = exporting::storedParts(enc);
    if (const auto plain = exporting::plainDType(*spec.format)) { // fp32/fp16/bf16: values
        const Handle type = typeFor(*plain);
        const std::size_t es = dtypeSize(*plain);
        w.dataset(group, "values", type.get(), t.shape, es, json::object(),
                  [&](std::int64_t first, std::int64_t count, std::byte* out) {
                      std::memcpy(out, enc.codes.data() + static_cast<std::size_t>(first) * es,
                                  static_cast<std::size_t>(count) * es);
                  });
        return;
    }
    for (const auto& p : parts)
        writePart(w, group, p);
}

} // namespace

void exportHdf5(const std::string& out, const Model& source, std::span<const ExportTensor> tensors,
                const ExportOptions& options)
{
    exporting::checkExport(out, source, tensors);
    exporting::PartFile part(out, ".part", false);
    Handle file;
    {
        h5::Session session;
        file = Handle(
            h5::check(H5Fcreate(part.path().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), out,
                      "cannot create the file"),
            H5Fclose);
        Writer(out, file.get())
            .attributes(file.get(), {{"quantscope_layout", "tensors"},
                                     {"layout_version", kPackedLayoutVersion},
                                     {"group_names", "tensor names with '%' -> %25, '/' -> %2F, "
                                                     "NUL -> %00, \".\" -> %2E; the group's "
                                                     "attribute 'name' holds the tensor name"}});
    }
    for (const auto& e : tensors) {
        const TensorInfo& t = *e.source;
        std::optional<EncodedTensor> enc; // encoded outside the library lock
        if (e.spec) enc = exporting::encode(out, source, e, options);
        {
            h5::Session session;
            Writer w(out, file.get());
            w.setTensor(t.name);
            Handle group = w.group(t);
            if (enc)
                writeEncoded(w, group.get(), t, *e.spec, *enc);
            else
                writeKept(w, group.get(), out, source, t);
        }
        if (!enc) exporting::keptDone(t, options);
    }
    {
        h5::Session session;
        if (H5Fflush(file.get(), H5F_SCOPE_GLOBAL) < 0) h5::fail(out, "cannot write the file");
        file.reset();
    }
    source.checkIntact(); // never publish data read from a file that shrank meanwhile
    part.commit();
}

} // namespace qs
