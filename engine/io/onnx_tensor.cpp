#include "io/onnx_tensor.h"

#include "core/error.h"
#include "io/mapped_file.h"

#include <bit>
#include <cstdint>
#include <limits>
#include <type_traits>

namespace qs::onnx_detail {
namespace {

using google::protobuf::RepeatedField;

// A raw_data string taken over from the parsed protobuf: the bytes are not copied.
class StringBytes final : public ByteSource
{
public:
    StringBytes(std::string path, std::string data)
        : m_path(std::move(path)), m_data(std::move(data))
    {
    }
    const std::string& path() const override { return m_path; }
    std::span<const std::byte> bytes() const override
    {
        return {reinterpret_cast<const std::byte*>(m_data.data()), m_data.size()};
    }

private:
    std::string m_path;
    std::string m_data;
};

// A typed field (float_data, ...) taken over from the parsed protobuf. On a little-endian
// machine its memory is the little-endian layout tensors are read in.
template <typename T> class FieldBytes final : public ByteSource
{
public:
    FieldBytes(std::string path, RepeatedField<T>& field) : m_path(std::move(path))
    {
        m_field.Swap(&field);
    }
    const std::string& path() const override { return m_path; }
    std::span<const std::byte> bytes() const override
    {
        return {reinterpret_cast<const std::byte*>(m_field.data()),
                static_cast<std::size_t>(m_field.size()) * sizeof(T)};
    }

private:
    std::string m_path;
    RepeatedField<T> m_field;
};

std::uint64_t loadLe(const std::byte* p, std::size_t n)
{
    std::uint64_t v = 0;
    for (std::size_t i = n; i-- > 0;)
        v = (v << 8) | static_cast<std::uint64_t>(p[i]);
    return v;
}

void storeLe(std::byte* p, std::uint64_t v, std::size_t n)
{
    for (std::size_t i = 0; i < n; ++i)
        p[i] = static_cast<std::byte>((v >> (8 * i)) & 0xff);
}

// Unsigned little-endian values of `from` bytes, zero-extended to `to` bytes each.
std::vector<std::byte> widen(std::span<const std::byte> src, std::size_t from, std::size_t to)
{
    const std::size_t n = src.size() / from;
    std::vector<std::byte> out(n * to);
    for (std::size_t i = 0; i < n; ++i)
        storeLe(out.data() + i * to, loadLe(src.data() + i * from, from), to);
    return out;
}

// Whether little-endian unsigned 64-bit values all fit a signed 64-bit integer.
bool fitsSigned64(std::span<const std::byte> src)
{
    for (std::size_t i = 7; i < src.size(); i += 8)
        if ((static_cast<unsigned>(src[i]) & 0x80) != 0) return false;
    return true;
}

template <typename T>
std::shared_ptr<const ByteSource> takeField(const std::string& path, RepeatedField<T>& field)
{
    if constexpr (std::endian::native == std::endian::little) {
        return std::make_shared<const FieldBytes<T>>(path, field);
    } else {
        using U = std::conditional_t<sizeof(T) == 8, std::uint64_t, std::uint32_t>;
        std::vector<std::byte> out(static_cast<std::size_t>(field.size()) * sizeof(T));
        for (int i = 0; i < field.size(); ++i)
            storeLe(out.data() + static_cast<std::size_t>(i) * sizeof(T),
                    static_cast<std::uint64_t>(std::bit_cast<U>(field.Get(i))), sizeof(T));
        field.Clear();
        return std::make_shared<const OwnedBytes>(path, std::move(out));
    }
}

std::optional<std::uint64_t> parseByteCount(const std::string& text)
{
    if (text.empty()) return std::nullopt;
    std::uint64_t v = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (v > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return std::nullopt;
        v = v * 10 + digit;
    }
    return v;
}

[[noreturn]] void fail(const std::string& path, const std::string& tensor, const std::string& what)
{
    throw Error(path + ": tensor '" + tensor + "': " + what);
}

Shape checkedShape(const std::string& path, const std::string& name,
                   const RepeatedField<std::int64_t>& dims)
{
    Shape shape;
    std::int64_t numel = 1;
    for (const std::int64_t d : dims) {
        if (d < 0) fail(path, name, "negative dimension " + std::to_string(d) + " in its shape");
        if (d != 0 && numel > std::numeric_limits<std::int64_t>::max() / d)
            fail(path, name, "its shape overflows the element count");
        if (d != 0) numel *= d; // an empty tensor may not hide an overflowing shape
        shape.push_back(d);
    }
    return shape;
}

// Whether `bytes` is exactly what the tensor's shape needs in raw form (without overflowing).
bool rawSizeMatches(const TensorInfo& info, const ElementType& type, std::uint64_t bytes)
{
    const auto numel = static_cast<std::uint64_t>(info.numel());
    return numel <= std::numeric_limits<std::uint64_t>::max() / type.rawSize &&
           numel * type.rawSize == bytes;
}

std::string needs(const TensorInfo& info, const ElementType& type)
{
    return "shape " + shapeToString(info.shape) + " of " + std::string(type.name) + " needs " +
           std::to_string(info.numel()) + " x " + std::to_string(type.rawSize) + " bytes";
}

void checkCount(const std::string& path, const TensorInfo& info, int count, const char* field)
{
    if (static_cast<std::uint64_t>(count) == static_cast<std::uint64_t>(info.numel())) return;
    const std::string needed =
        "shape " + shapeToString(info.shape) + " needs " + std::to_string(info.numel()) + " values";
    if (count == 0) fail(path, info.name, needed + " but the tensor holds no data");
    fail(path, info.name, needed + " but " + field + " holds " + std::to_string(count));
}

} // namespace

TensorLoader::TensorLoader(std::string modelPath, Model& model)
    : m_path(std::move(modelPath)), m_dir(std::filesystem::path(m_path).parent_path()),
      m_model(model)
{
}

TensorLoader::Placement TensorLoader::own(std::shared_ptr<const ByteSource> source)
{
    const std::uint64_t size = source->size();
    m_model.files.push_back(std::move(source));
    return {static_cast<int>(m_model.files.size() - 1), 0, size};
}

int TensorLoader::emptySource()
{
    if (m_empty < 0)
        m_empty =
            own(std::make_shared<const OwnedBytes>(m_path, std::vector<std::byte>{})).fileIndex;
    return m_empty;
}

std::size_t TensorLoader::addWithoutData(const std::string& name,
                                         const RepeatedField<std::int64_t>& dims,
                                         const std::string& storedType)
{
    TensorInfo info;
    info.name = name;
    info.shape = checkedShape(m_path, name, dims);
    info.dtype = DType::U8; // a placeholder: not quantizable, and byteSize 0 says "no data"
    info.storedType = storedType;
    info.fileIndex = emptySource();
    m_model.tensors.push_back(std::move(info));
    return m_model.tensors.size() - 1;
}

std::size_t TensorLoader::add(onnx::TensorProto& t, const std::string& name)
{
    TensorInfo info;
    info.name = name;
    info.shape = checkedShape(m_path, name, t.dims());
    if (t.data_type() == 0) fail(m_path, name, "element type is not set (data_type 0)");
    info.storedType = elementTypeName(t.data_type());
    const ElementType* type = findElementType(t.data_type());
    if (!type || !type->dtype) return addWithoutData(name, t.dims(), info.storedType);
    info.dtype = *type->dtype;

    const Placed placed = t.data_location() == onnx::TensorProto_DataLocation_EXTERNAL
                              ? externalData(t, *type, info)
                          : t.has_raw_data() ? rawData(t, *type, info)
                                             : typedData(t, *type, info);
    if (!placed) return addWithoutData(name, t.dims(), info.storedType);
    info.fileIndex = placed->fileIndex;
    info.offset = placed->offset;
    info.byteSize = placed->byteSize;
    m_model.tensors.push_back(std::move(info));
    return m_model.tensors.size() - 1;
}

int TensorLoader::externalFile(const std::string& tensor, const std::string& location)
{
    const std::filesystem::path loc(location);
    bool escapes = loc.is_absolute();
    for (const auto& part : loc)
        escapes = escapes || part == "..";
    if (escapes)
        fail(m_path, tensor,
             "external data location '" + location + "' points outside the model's folder");
    const std::string full = (m_dir / loc).lexically_normal().string();
    if (const auto it = m_external.find(full); it != m_external.end()) return it->second;
    std::shared_ptr<const ByteSource> file;
    try {
        file = std::make_shared<const MappedFile>(full);
    } catch (const Error& e) {
        fail(m_path, tensor, std::string("external data file cannot be read: ") + e.what());
    }
    const int index = own(std::move(file)).fileIndex;
    m_external.emplace(full, index);
    return index;
}

TensorLoader::Placed TensorLoader::externalData(const onnx::TensorProto& t, const ElementType& type,
                                                const TensorInfo& info)
{
    std::string location;
    std::optional<std::uint64_t> offset, length;
    for (const auto& kv : t.external_data()) {
        if (kv.key() == "location") location = kv.value();
        if (kv.key() != "offset" && kv.key() != "length") continue;
        const auto v = parseByteCount(kv.value());
        if (!v)
            fail(m_path, info.name,
                 "external data " + kv.key() + " '" + kv.value() + "' is not a byte count");
        (kv.key() == "offset" ? offset : length) = v;
    }
    if (location.empty()) fail(m_path, info.name, "external data has no location");
    const int index = externalFile(info.name, location);
    const ByteSource& file = *m_model.files[static_cast<std::size_t>(index)];
    const std::uint64_t size = file.size(), off = offset.value_or(0);
    if (off > size)
        fail(m_path, info.name,
             "external data offset " + std::to_string(off) + " lies beyond the end of " +
                 file.path() + " (" + std::to_string(size) + " bytes)");
    const std::uint64_t len = length.value_or(size - off);
    if (len > size - off)
        fail(m_path, info.name,
             "external data bytes " + std::to_string(off) + "-" + std::to_string(off + len) +
                 " lie beyond the end of " + file.path() + " (" + std::to_string(size) + " bytes)");
    if (!rawSizeMatches(info, type, len))
        fail(m_path, info.name,
             needs(info, type) + " but its external data in " + file.path() + " holds " +
                 std::to_string(len) + " (at byte " + std::to_string(off) + ")");
    const auto bytes = file.range(off, len);
    if (type.code == kUInt64Type && !fitsSigned64(bytes)) return std::nullopt;
    if (type.rawSize < dtypeSize(info.dtype)) // unsigned types kept wider: decode them now
        return own(std::make_shared<const OwnedBytes>(
            m_path, widen(bytes, type.rawSize, dtypeSize(info.dtype))));
    return Placement{index, off, len};
}

TensorLoader::Placed TensorLoader::rawData(onnx::TensorProto& t, const ElementType& type,
                                           const TensorInfo& info)
{
    const std::string& raw = t.raw_data();
    if (!rawSizeMatches(info, type, raw.size()))
        fail(m_path, info.name,
             needs(info, type) + " but raw_data holds " + std::to_string(raw.size()));
    const auto bytes = std::as_bytes(std::span(raw.data(), raw.size()));
    if (type.code == kUInt64Type && !fitsSigned64(bytes)) return std::nullopt;
    if (type.rawSize < dtypeSize(info.dtype)) {
        auto wide = widen(bytes, type.rawSize, dtypeSize(info.dtype));
        t.clear_raw_data();
        return own(std::make_shared<const OwnedBytes>(m_path, std::move(wide)));
    }
    return own(std::make_shared<const StringBytes>(m_path, std::move(*t.mutable_raw_data())));
}

TensorLoader::Placed TensorLoader::typedData(onnx::TensorProto& t, const ElementType& type,
                                             const TensorInfo& info)
{
    switch (type.field) {
    case TypedField::Float:
        checkCount(m_path, info, t.float_data_size(), "float_data");
        return own(takeField(m_path, *t.mutable_float_data()));
    case TypedField::Double:
        checkCount(m_path, info, t.double_data_size(), "double_data");
        return own(takeField(m_path, *t.mutable_double_data()));
    case TypedField::Int64:
        checkCount(m_path, info, t.int64_data_size(), "int64_data");
        return own(takeField(m_path, *t.mutable_int64_data()));
    case TypedField::UInt64:
        checkCount(m_path, info, t.uint64_data_size(), "uint64_data");
        for (int i = 0; i < t.uint64_data_size(); ++i) {
            const std::uint64_t v = t.uint64_data(i);
            if (v <= static_cast<std::uint64_t>(type.hi)) continue;
            if (type.code == kUInt64Type) return std::nullopt;
            fail(m_path, info.name,
                 "uint64_data value " + std::to_string(v) + " at index " + std::to_string(i) +
                     " is out of range for " + std::string(type.name));
        }
        return own(takeField(m_path, *t.mutable_uint64_data())); // in range: the bytes of I64
    case TypedField::Int32: {
        checkCount(m_path, info, t.int32_data_size(), "int32_data");
        for (int i = 0; i < t.int32_data_size(); ++i) {
            const std::int64_t v = t.int32_data(i);
            if (v < type.lo || v > type.hi)
                fail(m_path, info.name,
                     "int32_data value " + std::to_string(v) + " at index " + std::to_string(i) +
                         " is out of range for " + std::string(type.name));
        }
        const std::size_t size = dtypeSize(info.dtype);
        if (size == sizeof(std::int32_t)) return own(takeField(m_path, *t.mutable_int32_data()));
        // Narrower types: one value per int32, of which the low bytes are kept.
        std::vector<std::byte> out(static_cast<std::size_t>(t.int32_data_size()) * size);
        for (int i = 0; i < t.int32_data_size(); ++i)
            storeLe(out.data() + static_cast<std::size_t>(i) * size,
                    static_cast<std::uint32_t>(t.int32_data(i)), size);
        t.clear_int32_data();
        return own(std::make_shared<const OwnedBytes>(m_path, std::move(out)));
    }
    case TypedField::None:
        break;
    }
    return std::nullopt; // types without a typed field have no dtype either: not reached
}

} // namespace qs::onnx_detail
