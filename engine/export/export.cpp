#include "export/export.h"

#include "core/error.h"
#include "export/export_detail.h"
#include "formats/code_bytes.h"
#include "formats/half.h"
#include "formats/storage.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <limits>
#include <set>
#include <unistd.h>

namespace qs {

namespace fs = std::filesystem;

std::optional<ExportFormat> exportFormatForPath(const std::string& path)
{
    std::string ext = fs::path(path).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (ext == ".gguf") return ExportFormat::Gguf;
    if (ext == ".safetensors") return ExportFormat::PackedSafetensors;
    if (ext == ".h5" || ext == ".hdf5") return ExportFormat::Hdf5;
    return std::nullopt;
}

void exportModel(const std::string& out, const Model& source, std::span<const ExportTensor> tensors,
                 const ExportOptions& options)
{
    const auto format = exportFormatForPath(out);
    if (!format)
        throw Error(out + ": cannot tell the export format from the file name (use .gguf, "
                          ".safetensors, .h5 or .hdf5)");
    // Tensors of one shape reuse each other's code buffers during the export; after it, none
    // is worth keeping.
    struct ReleaseKept
    {
        ~ReleaseKept() { codecache::clear(); }
    } releaseKept;
    switch (*format) {
    case ExportFormat::Gguf:
        return exportGguf(out, source, tensors, options);
    case ExportFormat::PackedSafetensors:
        return exportPackedSafetensors(out, source, tensors, options);
    case ExportFormat::Hdf5:
        return exportHdf5(out, source, tensors, options);
    }
}

namespace exporting {
namespace {

// Values converted or copied at once when a kept tensor is streamed.
constexpr std::int64_t kStreamElems = std::int64_t{1} << 20;

// OCP FP8 E4M3 ("FN": no infinities, S.1111.111 is NaN), exactly.
float e4m3ToF32(std::uint8_t b)
{
    const int e = (b >> 3) & 15, m = b & 7;
    const float sign = (b & 0x80) ? -1.0f : 1.0f;
    if (e == 15 && m == 7) return std::numeric_limits<float>::quiet_NaN();
    if (e == 0) return sign * std::ldexp(static_cast<float>(m), -9);
    return sign * std::ldexp(static_cast<float>(8 + m), e - 10);
}

template <typename T> float loadAs(const std::byte* p)
{
    T v;
    std::memcpy(&v, p, sizeof v);
    return static_cast<float>(v);
}

void addPart(std::vector<StoredPart>& parts, const char* role, DType dtype, const char* encoding,
             const void* data, std::size_t count)
{
    if (count == 0 && std::strcmp(role, "codes") != 0) return; // codes even when empty
    for (const auto& p : parts)
        if (p.role == role)
            throw Error(std::string("the stored form has two kinds of ") + role +
                        ", which the exporter cannot tell apart");
    parts.push_back({role,
                     dtype,
                     encoding,
                     {static_cast<const std::byte*>(data), count * dtypeSize(dtype)},
                     static_cast<std::int64_t>(count)});
}

} // namespace

std::string quoteName(const std::string& name)
{
    return "'" + name + "'";
}

void checkExport(const std::string& out, const Model& source, std::span<const ExportTensor> tensors)
{
    std::error_code ec;
    if (fs::is_directory(out, ec)) throw Error(out + ": is a folder, not a file to write");
    std::vector<std::string> sources{source.path};
    for (const auto& f : source.files)
        sources.push_back(f->path());
    for (const auto& s : sources) {
        std::error_code e1, e2, e3;
        const fs::path a = fs::weakly_canonical(out, e2), b = fs::weakly_canonical(s, e3);
        if (fs::equivalent(out, s, e1) || (!e2 && !e3 && !a.empty() && a == b))
            throw Error(out + ": is a file of the source model; export to another file");
    }
    std::set<std::string> names;
    for (const auto& t : tensors) {
        if (!t.source) throw Error(out + ": a tensor to export is missing");
        if (!names.insert(t.source->name).second)
            throw Error(out + ": tensor " + quoteName(t.source->name) + " is listed twice");
        if (!t.spec) continue;
        if (!t.spec->format)
            throw Error(out + ": tensor " + quoteName(t.source->name) + " has no number format");
        if (!isQuantizable(t.source->dtype))
            throw Error(out + ": tensor " + quoteName(t.source->name) + " of type " +
                        t.source->storedType + " holds no float values and cannot be quantized");
    }
}

EncodedTensor encode(const std::string& out, const Model& source, const ExportTensor& tensor,
                     const ExportOptions& options)
{
    const TensorInfo& t = *tensor.source;
    const Control& outer = options.control;
    outer.checkCancelled();
    std::atomic<std::uint64_t> reported{0};
    Control control = outer;
    if (outer.progress)
        control.progress = [&](std::uint64_t bytes) {
            reported += bytes;
            outer.progress(bytes);
        };
    EncodedTensor enc;
    try {
        if (options.encode) {
            enc = options.encode(tensor);
        } else {
            TensorQuantizer qz(source.data(t), t, *tensor.spec);
            enc = encodeTensor(qz, control);
        }
    } catch (const Error& e) {
        throw Error(out + ": " + e.what());
    }
    const Format& f = *tensor.spec->format;
    const std::string where = out + ": tensor " + quoteName(t.name) + ": ";
    if (enc.format != &f || enc.numel != t.numel())
        throw Error(where + "the encoder returned another format or size than asked for");
    std::uint64_t bytes = 0;
    for (const auto& p : storedParts(enc))
        bytes += p.bytes.size();
    // A part the exporter does not know (a field added to EncodedTensor) would be lost: the
    // parts it writes must add up to the format's size.
    const std::uint64_t expected =
        storageCost(t, f, tensor.spec->granularity, tensor.spec->floatZero()).bytes;
    if (bytes != expected)
        throw Error(where + "its stored form has " + std::to_string(bytes) + " bytes where " +
                    std::string(f.name) + " takes " + std::to_string(expected) +
                    "; the exporter does not know all of its parts");
    if (outer.progress && reported < t.byteSize) outer.progress(t.byteSize - reported);
    return enc;
}

void keptDone(const TensorInfo& t, const ExportOptions& options)
{
    if (options.control.progress) options.control.progress(t.byteSize);
    options.control.checkCancelled();
}

std::vector<StoredPart> storedParts(const EncodedTensor& enc)
{
    std::vector<StoredPart> parts;
    const Format& f = *enc.format;
    const char* codes = f.ggmlBlock() ? "ggml-blocks" : plainDType(f) ? "plain" : "packed";
    addPart(parts, "codes", DType::U8, codes, enc.codes.data(), enc.codes.size());
    addPart(parts, "scales", DType::F32, "fp32", enc.scales.data(), enc.scales.size());
    addPart(parts, "scales", DType::F16, "fp16", enc.scales16.data(), enc.scales16.size());
    addPart(parts, "scales", DType::U8, "e8m0", enc.scalesE8M0.data(), enc.scalesE8M0.size());
    addPart(parts, "zeros", DType::U8, "uint8", enc.zeroPoints.data(), enc.zeroPoints.size());
    addPart(parts, "zeros", DType::F16, "fp16", enc.zeros16.data(), enc.zeros16.size());
    return parts;
}

std::optional<DType> plainDType(const Format& f)
{
    switch (f.kind) {
    case FormatKind::Float32:
        return DType::F32;
    case FormatKind::Float16:
        return DType::F16;
    case FormatKind::BFloat16:
        return DType::BF16;
    default:
        return std::nullopt;
    }
}

namespace {

std::string dtypeOf(const TensorInfo& t)
{
    return t.dtype == DType::GgmlOther ? t.storedType : std::string(dtypeName(t.dtype));
}

} // namespace

nlohmann::ordered_json describe(const TensorInfo& t, const QuantSpec& spec)
{
    using json = nlohmann::ordered_json;
    const Format& f = *spec.format;
    json d;
    d["format"] = std::string(f.name);
    d["family"] = std::string(f.family);
    d["bits"] = f.bits;
    if (f.integer()) {
        d["qmax"] = f.qmax;
        d["signed"] = !f.affine();
        d["calibration"] = spec.calibration.toString();
    }
    if (f.takesGranularity()) d["granularity"] = spec.granularity.toString();
    if (f.ggmlBlock()) d["block_size"] = dtypeBlockSize(f.blockType);
    std::string order = "row-major";
    if (f.scaled()) {
        const GroupLayout l = groupLayout(t, f, spec.granularity);
        d["channel_axis"] = l.axis >= 0 ? json(l.axis) : json(nullptr);
        d["channels"] = l.channels;
        d["group_size"] = l.groupSize;
        d["groups_per_channel"] = l.groupsPerChannel;
        if (l.axis >= 0) order = "channel-major";
    }
    d["order"] = order;
    d["packing"] = f.ggmlBlock() ? "ggml-blocks" : plainDType(f) ? "plain" : "lsb-first";
    d["shape"] = t.shape;
    d["dtype"] = dtypeOf(t);
    return d;
}

nlohmann::ordered_json describeKeptBlocks(const TensorInfo& t, std::int64_t byteCount)
{
    nlohmann::ordered_json d;
    d["format"] = dtypeOf(t);
    d["family"] = "ggml";
    d["kept"] = true;
    if (t.dtype != DType::GgmlOther) d["block_size"] = dtypeBlockSize(t.dtype);
    d["order"] = "row-major";
    d["packing"] = "ggml-blocks";
    d["shape"] = t.shape;
    d["dtype"] = dtypeOf(t);
    d["bytes"] = byteCount;
    return d;
}

KeptReader::KeptReader(const std::string& out, const Model& source, const TensorInfo& t, bool toF32)
    : m_where(out + ": tensor " + quoteName(t.name)), m_t(t), m_data(source.data(t)), m_toF32(toF32)
{
    if (toF32 && isBlockType(t.dtype) && !isQuantizable(t.dtype))
        throw Error(m_where + " of type " + t.storedType + " cannot be converted to float32");
    if (!toF32 && isBlockType(t.dtype) && (!t.strides.empty() || t.bigEndian))
        throw Error(m_where + " of type " + t.storedType +
                    " cannot be a strided or big-endian view");
    if (asStored() && m_data.size() != byteSize())
        throw Error(m_where + ": data size does not match its shape");
}

bool KeptReader::asStored() const
{
    return !m_toF32 && (isBlockType(m_t.dtype) || (m_t.strides.empty() && !m_t.bigEndian));
}

std::size_t KeptReader::elementSize() const
{
    if (m_toF32) return 4;
    return isBlockType(m_t.dtype) ? 1 : dtypeSize(m_t.dtype);
}

std::uint64_t KeptReader::byteSize() const
{
    if (!m_toF32 && isBlockType(m_t.dtype)) return m_data.size();
    return static_cast<std::uint64_t>(m_t.numel()) * elementSize();
}

void KeptReader::read(std::int64_t first, std::int64_t count, std::byte* out) const
{
    if (asStored())
        std::memcpy(out, m_data.data() + static_cast<std::size_t>(first) * elementSize(),
                    static_cast<std::size_t>(count) * elementSize());
    else if (m_toF32)
        readF32(first, count, reinterpret_cast<float*>(out));
    else
        readStored(first, count, out);
}

void KeptReader::stream(const std::function<void(std::span<const std::byte>)>& sink) const
{
    if (asStored()) {
        // Straight from the mapping, which already has the output's layout.
        const std::size_t piece = static_cast<std::size_t>(kStreamElems) * 4;
        for (std::size_t at = 0; at < m_data.size(); at += piece)
            sink(m_data.subspan(at, std::min(piece, m_data.size() - at)));
        return;
    }
    const std::int64_t n = m_t.numel();
    std::vector<std::byte> buf(static_cast<std::size_t>(std::min(n, kStreamElems)) * elementSize());
    for (std::int64_t first = 0; first < n; first += kStreamElems) {
        const std::int64_t count = std::min(kStreamElems, n - first);
        read(first, count, buf.data());
        sink(std::span<const std::byte>(buf.data(),
                                        static_cast<std::size_t>(count) * elementSize()));
    }
}

void KeptReader::readStored(std::int64_t first, std::int64_t count, std::byte* out) const
{
    const std::size_t es = dtypeSize(m_t.dtype);
    const auto& shape = m_t.shape;
    for (std::int64_t k = 0; k < count; ++k) {
        std::int64_t at = first + k;
        if (!m_t.strides.empty()) { // row-major index -> element offset through the strides
            std::int64_t rest = at;
            at = 0;
            for (std::size_t a = shape.size(); a-- > 0;) {
                at += (rest % shape[a]) * m_t.strides[a];
                rest /= shape[a];
            }
        }
        const std::size_t src = static_cast<std::size_t>(at) * es;
        if (src + es > m_data.size()) throw Error(m_where + ": strides reach beyond its data");
        std::byte* dst = out + static_cast<std::size_t>(k) * es;
        for (std::size_t b = 0; b < es; ++b)
            dst[b] = m_data[src + (m_t.bigEndian ? es - 1 - b : b)];
    }
}

void KeptReader::readF32(std::int64_t first, std::int64_t count, float* out) const
{
    if (isQuantizable(m_t.dtype)) {
        try {
            TensorSource(m_data, m_t, -1).read(0, first, count, out);
        } catch (const Error& e) {
            throw Error(m_where + ": " + e.what());
        }
        return;
    }
    const std::size_t es = dtypeSize(m_t.dtype);
    std::vector<std::byte> raw(static_cast<std::size_t>(count) * es);
    readStored(first, count, raw.data());
    for (std::int64_t k = 0; k < count; ++k) {
        const std::byte* p = raw.data() + static_cast<std::size_t>(k) * es;
        const auto u8 = std::to_integer<std::uint8_t>(*p);
        switch (m_t.dtype) {
        case DType::F8_E4M3:
            out[k] = e4m3ToF32(u8);
            break;
        case DType::F8_E5M2: // the upper byte of a binary16
            out[k] = f16ToF32(static_cast<std::uint16_t>(u8 << 8));
            break;
        case DType::I64:
            out[k] = loadAs<std::int64_t>(p);
            break;
        case DType::I32:
            out[k] = loadAs<std::int32_t>(p);
            break;
        case DType::I16:
            out[k] = loadAs<std::int16_t>(p);
            break;
        case DType::I8:
            out[k] = loadAs<std::int8_t>(p);
            break;
        case DType::U8:
        case DType::BOOL:
            out[k] = u8;
            break;
        default:
            throw Error(m_where + " of type " + m_t.storedType + " cannot be converted to float32");
        }
    }
}

PartFile::PartFile(std::string target, const std::string& suffix, bool open)
    : m_target(std::move(target)), m_tmp(m_target + suffix)
{
    if (!open) return;
    m_file = std::fopen(m_tmp.c_str(), "w+b");
    if (!m_file) fail("cannot write");
}

PartFile::~PartFile()
{
    if (m_file) std::fclose(m_file);
    if (!m_committed) std::remove(m_tmp.c_str());
}

void PartFile::fail(const std::string& what) const
{
    throw Error(m_target + ": " + what + ": " + std::strerror(errno));
}

void PartFile::write(const void* data, std::size_t bytes)
{
    if (bytes && std::fwrite(data, 1, bytes, m_file) != bytes) fail("write failed");
    m_written += bytes;
}

void PartFile::zeros(std::size_t bytes)
{
    static constexpr char zero[64] = {};
    for (std::size_t done = 0; done < bytes;) {
        const std::size_t n = std::min(bytes - done, sizeof zero);
        write(zero, n);
        done += n;
    }
}

void PartFile::readAt(std::uint64_t offset, void* data, std::size_t bytes)
{
    if (std::fflush(m_file) != 0 || ::fseeko(m_file, static_cast<off_t>(offset), SEEK_SET) != 0 ||
        std::fread(data, 1, bytes, m_file) != bytes)
        fail("cannot read back " + m_tmp);
    if (::fseeko(m_file, 0, SEEK_END) != 0) fail("cannot read back " + m_tmp);
}

void PartFile::commit()
{
    if (m_file) {
        const bool ok = std::fflush(m_file) == 0 && ::fsync(fileno(m_file)) == 0;
        const int err = errno;
        std::fclose(m_file);
        m_file = nullptr;
        errno = err;
        if (!ok) fail("write failed");
    } else { // written by another library: make its bytes durable before the rename
        const int fd = ::open(m_tmp.c_str(), O_RDONLY);
        if (fd < 0 || ::fsync(fd) != 0) {
            const int err = errno;
            if (fd >= 0) ::close(fd);
            errno = err;
            fail("write failed");
        }
        ::close(fd);
    }
    std::error_code ec;
    fs::rename(m_tmp, m_target, ec);
    if (ec) throw Error(m_target + ": cannot replace the file: " + ec.message());
    m_committed = true;
}

} // namespace exporting
} // namespace qs
