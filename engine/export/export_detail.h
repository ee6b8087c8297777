// What the export writers share: checks, the encoder call, a stored form's parts, reading kept
// tensors, metadata descriptions and files written next to their destination.
#pragma once

#include "export/export.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace qs::exporting {

// Checks every writer needs before it creates anything: each tensor is given once, quantized
// tensors hold float values and have a format, and `out` is not a file of the source model.
// Throws qs::Error("<out>: ...").
void checkExport(const std::string& out, const Model& source,
                 std::span<const ExportTensor> tensors);

// The tensor's stored form from the options' encoder (or encodeTensor), checked against its
// spec and its size (storageCost); progress reports the tensor's source bytes. Errors name out.
EncodedTensor encode(const std::string& out, const Model& source, const ExportTensor& tensor,
                     const ExportOptions& options);
// Reports a kept tensor's source bytes as done, and stops when cancellation was requested.
void keptDone(const TensorInfo& t, const ExportOptions& options);

// One array of a stored form: the codes, a scale vector or a zero-point vector.
struct StoredPart
{
    std::string role;     // "codes", "scales" or "zeros"
    DType dtype;          // how the elements are stored: U8, F16, F32
    std::string encoding; // what an element means: "packed", "ggml-blocks", "fp32", "e8m0", ...
    std::span<const std::byte> bytes;
    std::int64_t count = 0; // elements
};
// The arrays of a stored form (the codes always, scales and zero points when non-empty), so
// that writers need no code per format.
std::vector<StoredPart> storedParts(const EncodedTensor& enc);

// F32/F16/BF16 for the formats that store plain floats (fp32, fp16, bf16), else nullopt.
std::optional<DType> plainDType(const Format& f);

// The metadata that describes a quantized tensor: format, bits, granularity and scale-group
// layout, code order and packing, and the tensor's original shape and dtype.
nlohmann::ordered_json describe(const TensorInfo& t, const QuantSpec& spec);
// The same for a tensor stored as ggml blocks that is kept as it is (a GGUF source's q4_K).
nlohmann::ordered_json describeKeptBlocks(const TensorInfo& t, std::int64_t byteCount);

// A kept tensor's values in row-major order: its stored bytes made contiguous and
// little-endian (strided views and big-endian data are rearranged), or float32 values
// converted from any plain or decodable type.
class KeptReader
{
public:
    // Errors name `out` and the tensor.
    KeptReader(const std::string& out, const Model& source, const TensorInfo& t, bool toF32);
    std::uint64_t byteSize() const;  // of the output
    std::size_t elementSize() const; // of the output; block types: 1 (a byte)
    // Elements [first, first + count) of the output, in row-major order.
    void read(std::int64_t first, std::int64_t count, std::byte* out) const;
    // Calls sink with consecutive pieces of the output, a few MiB at most each.
    void stream(const std::function<void(std::span<const std::byte>)>& sink) const;

private:
    bool asStored() const; // the mapped bytes already are the output
    void readStored(std::int64_t first, std::int64_t count, std::byte* out) const;
    void readF32(std::int64_t first, std::int64_t count, float* out) const;

    std::string m_where;
    const TensorInfo& m_t;
    std::span<const std::byte> m_data;
    bool m_toF32;
};

// A file written next to `target` (target + suffix) that commit() renames into place; the
// destructor removes it unless committed. With open = false the caller writes the path
// through another library (libhdf5).
class PartFile
{
public:
    PartFile(std::string target, const std::string& suffix, bool open = true);
    ~PartFile();
    PartFile(const PartFile&) = delete;
    PartFile& operator=(const PartFile&) = delete;

    const std::string& path() const { return m_tmp; }
    std::uint64_t written() const { return m_written; }
    void write(const void* data, std::size_t bytes);
    void zeros(std::size_t bytes);
    // Reads back `bytes` at `offset` (a scratch file read after writing).
    void readAt(std::uint64_t offset, void* data, std::size_t bytes);
    // Flushes, syncs, closes and renames onto the target.
    void commit();

private:
    [[noreturn]] void fail(const std::string& what) const;

    std::string m_target, m_tmp;
    std::FILE* m_file = nullptr;
    std::uint64_t m_written = 0;
    bool m_committed = false;
};

std::string quoteName(const std::string& name); // 'name'

} // namespace qs::exporting
