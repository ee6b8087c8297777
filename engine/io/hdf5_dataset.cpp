#include "io/hdf5_dataset.h"

#include "core/error.h"
#include "io/hdf5_file.h"

#include <limits>
#include <variant>
#include <vector>

namespace qs::h5 {
namespace {

struct ElementType
{
    DType dtype;
    std::string stored; // HDF5's name for it, e.g. "H5T_IEEE_F32BE"
    bool bigEndian = false;
};

struct FloatLayout
{
    std::size_t size, spos, epos, esize, mpos, msize, ebias;
    DType dtype;
    const char* name;
};

// IEEE binary16/32/64 and bfloat16, by the bit fields HDF5 describes a float type with.
constexpr FloatLayout kFloats[] = {
    {2, 15, 10, 5, 0, 10, 15, DType::F16, "F16"},
    {2, 15, 7, 8, 0, 7, 127, DType::BF16, "BF16"},
    {4, 31, 23, 8, 0, 23, 127, DType::F32, "F32"},
    {8, 63, 52, 11, 0, 52, 1023, DType::F64, "F64"},
};

std::string orderSuffix(bool big)
{
    return big ? "BE" : "LE";
}

// An element type QuantScope reads, or why the dataset is skipped.
std::variant<ElementType, std::string> elementType(hid_t type)
{
    const H5T_class_t cls = H5Tget_class(type);
    const std::size_t size = H5Tget_size(type);
    const H5T_order_t order = H5Tget_order(type);
    const bool big = order == H5T_ORDER_BE;
    auto plainBits = [&] {
        return H5Tget_offset(type) == 0 && H5Tget_precision(type) == size * 8 &&
               (order == H5T_ORDER_LE || order == H5T_ORDER_BE || size == 1 ||
                order == H5T_ORDER_NONE);
    };
    switch (cls) {
    case H5T_FLOAT: {
        std::size_t spos, epos, esize, mpos, msize;
        if (H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize) < 0 || !plainBits())
            return std::string("an unusual floating-point layout");
        const std::size_t ebias = H5Tget_ebias(type);
        for (const auto& f : kFloats)
            if (f.size == size && f.spos == spos && f.epos == epos && f.esize == esize &&
                f.mpos == mpos && f.msize == msize && f.ebias == ebias)
                return ElementType{
                    f.dtype,
                    (f.dtype == DType::F32 || f.dtype == DType::F64 || f.dtype == DType::F16
                         ? std::string("H5T_IEEE_")
                         : std::string()) +
                        f.name + orderSuffix(big),
                    big && size > 1};
        return std::to_string(size * 8) + "-bit floats of a layout QuantScope does not decode";
    }
    case H5T_INTEGER: {
        if (!plainBits()) return std::string("integers with padding bits");
        const bool isSigned = H5Tget_sign(type) == H5T_SGN_2;
        std::optional<DType> d;
        if (isSigned) {
            if (size == 1) d = DType::I8;
            if (size == 2) d = DType::I16;
            if (size == 4) d = DType::I32;
            if (size == 8) d = DType::I64;
        } else if (size == 1) {
            d = DType::U8;
        }
        if (!d) return std::string("unsigned ") + std::to_string(size * 8) + "-bit integers";
        return ElementType{*d,
                           std::string("H5T_STD_") + (isSigned ? "I" : "U") +
                               std::to_string(size * 8) + orderSuffix(big),
                           big && size > 1};
    }
    case H5T_ENUM: {
        // h5py stores NumPy bools as an 8-bit enum {FALSE = 0, TRUE = 1}.
        if (size != 1 || H5Tget_nmembers(type) != 2) return std::string("an enumeration");
        for (unsigned i = 0; i < 2; ++i) {
            char* memberName = H5Tget_member_name(type, i);
            signed char value = -1;
            const bool ok = memberName && H5Tget_member_value(type, i, &value) >= 0 &&
                            std::string(memberName) == (i ? "TRUE" : "FALSE") &&
                            value == static_cast<signed char>(i);
            H5free_memory(memberName);
            if (!ok) return std::string("an enumeration");
        }
        return ElementType{DType::BOOL, "BOOL (enum)", false};
    }
    case H5T_STRING:
        return std::string("strings");
    case H5T_COMPOUND:
        return std::string("a compound type");
    case H5T_ARRAY:
        return std::string("an array type");
    case H5T_VLEN:
        return std::string("variable-length sequences");
    case H5T_REFERENCE:
        return std::string("references");
    case H5T_OPAQUE:
        return std::string("opaque data");
    case H5T_BITFIELD:
        return std::string("bit fields");
    default:
        return std::string("a type QuantScope does not know");
    }
}

std::string num(std::uint64_t v)
{
    return std::to_string(v);
}

} // namespace

std::optional<TensorInfo> datasetTensor(ImageContext& ctx, hid_t file, const std::string& path,
                                        std::string& skipped)
{
    const std::string where = ctx.where;
    const std::string what = "dataset '" + path + "'";
    Handle ds(check(H5Dopen2(file, path.c_str(), H5P_DEFAULT), where, "cannot open " + what),
              H5Dclose);
    Handle type(check(H5Dget_type(ds.get()), where, what + ": cannot read its type"), H5Tclose);
    const auto element = elementType(type.get());
    if (const auto* reason = std::get_if<std::string>(&element)) {
        skipped = *reason;
        return std::nullopt;
    }
    const ElementType& et = std::get<ElementType>(element);

    Handle space(check(H5Dget_space(ds.get()), where, what + ": cannot read its shape"), H5Sclose);
    TensorInfo t;
    t.name = path;
    t.dtype = et.dtype;
    t.storedType = et.stored;
    t.bigEndian = et.bigEndian;
    switch (H5Sget_simple_extent_type(space.get())) {
    case H5S_SCALAR:
        break; // shape [] holds one value
    case H5S_SIMPLE: {
        const int rank = H5Sget_simple_extent_ndims(space.get());
        if (rank < 0 || rank > H5S_MAX_RANK) fail(where, what + ": unreadable rank");
        std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
        if (H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0)
            fail(where, what + ": cannot read its shape");
        for (const hsize_t d : dims) {
            if (d > static_cast<hsize_t>(std::numeric_limits<std::int64_t>::max()))
                throw Error(where + ": " + what + ": dimension " + num(d) + " is too large");
            t.shape.push_back(static_cast<std::int64_t>(d));
        }
        break;
    }
    case H5S_NULL:
        skipped = "no data (a null dataspace)";
        return std::nullopt;
    default:
        fail(where, what + ": cannot read its shape");
    }
    std::int64_t numel = 1; // checked here: TensorInfo::numel() would throw without the file name
    bool overflow = false;
    for (const auto d : t.shape)
        overflow = overflow || (d != 0 && __builtin_mul_overflow(numel, d, &numel));
    const auto bytes = overflow ? std::nullopt : dtypeStorageBytes(t.dtype, t.numel());
    if (!bytes)
        throw Error(where + ": " + what + ": shape " + shapeToString(t.shape) +
                    " overflows the element count");
    t.byteSize = *bytes;

    Handle dcpl(check(H5Dget_create_plist(ds.get()), where, what + ": cannot read its layout"),
                H5Pclose);
    const H5D_layout_t layout = H5Pget_layout(dcpl.get());
    if (layout == H5D_VIRTUAL)
        throw Error(where + ": " + what +
                    ": is a virtual dataset (its data lives in other files), which QuantScope "
                    "does not read");
    const int external = H5Pget_external_count(dcpl.get());
    if (external != 0)
        throw Error(where + ": " + what +
                    ": keeps its data in external files, which QuantScope does not read");
    const int filters = H5Pget_nfilters(dcpl.get());
    if (layout < 0 || filters < 0) fail(where, what + ": cannot read its layout");

    if (layout == H5D_CONTIGUOUS && filters == 0) {
        const haddr_t addr = H5Dget_offset(ds.get());
        if (addr != HADDR_UNDEF) {
            const hsize_t stored = H5Dget_storage_size(ds.get());
            if (stored != t.byteSize)
                throw Error(where + ": " + what + ": stores " + num(stored) + " bytes, but shape " +
                            shapeToString(t.shape) + " of " + et.stored + " needs " +
                            num(t.byteSize));
            if (addr > ctx.imageSize || t.byteSize > ctx.imageSize - addr)
                throw Error(where + ": " + what + ": its data at byte " + num(addr) + " (" +
                            num(t.byteSize) + " bytes) lies beyond the end of the file (" +
                            num(ctx.imageSize) + " bytes)");
            t.fileIndex = ctx.fileIndex;
            t.offset = ctx.imageOffset + addr;
            return t;
        }
        if (t.byteSize == 0) { // nothing stored, nothing needed
            t.fileIndex = ctx.fileIndex;
            t.offset = ctx.imageOffset;
            return t;
        }
        // Never written: H5Dread gives the fill value.
    }

    if (t.byteSize > ctx.maxDecodedBytes)
        throw Error(where + ": " + what + ": is chunked or compressed and would take " +
                    num(t.byteSize) + " bytes in memory; QuantScope decodes at most " +
                    num(ctx.maxDecodedBytes) + " bytes per dataset");
    for (int i = 0; i < filters; ++i) {
        unsigned flags = 0;
        std::size_t nValues = 0;
        char name[64] = {};
        unsigned config = 0;
        const H5Z_filter_t id = H5Pget_filter2(dcpl.get(), static_cast<unsigned>(i), &flags,
                                               &nValues, nullptr, sizeof name, name, &config);
        if (id < 0) fail(where, what + ": cannot read its filters");
        if (H5Zfilter_avail(id) <= 0) {
            H5Eclear2(H5E_DEFAULT);
            throw Error(where + ": " + what + ": is compressed with HDF5 filter " +
                        std::to_string(id) + (name[0] ? " ('" + std::string(name) + "')" : "") +
                        ", which this libhdf5 does not provide");
        }
    }
    std::vector<std::byte> buffer(static_cast<std::size_t>(t.byteSize));
    // Read in the stored type: no conversion, so big-endian data stays as it is described.
    if (t.byteSize > 0 &&
        H5Dread(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()) < 0)
        fail(where, what + ": cannot read its data");
    t.fileIndex = static_cast<int>(ctx.model.files.size());
    t.offset = 0;
    ctx.model.files.push_back(
        std::make_shared<const OwnedBytes>(ctx.model.path, std::move(buffer)));
    return t;
}

} // namespace qs::h5
