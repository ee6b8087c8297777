// llama.cpp importance matrices (legacy .dat and GGUF), read and validated for weighting errors.
#pragma once

#include "core/tensor.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace qs::alloc {

// One weight tensor's importance: the mean squared activation of each input column (the
// innermost, contiguous axis of a ggml/PyTorch weight, ggml's ne[0]), for each of `matrices`
// stacked matrices (experts of a merged MoE tensor; 1 otherwise), matrix after matrix.
struct ImatrixEntry
{
    std::vector<float> values;
    std::int64_t matrices = 1;
    std::int64_t columns() const { return static_cast<std::int64_t>(values.size()) / matrices; }
};

struct Imatrix
{
    std::string path;
    std::string format; // "dat" (legacy) or "gguf"
    std::map<std::string, ImatrixEntry> entries;
    std::int64_t chunks = 0;           // chunks the statistics were collected over (0: unknown)
    std::vector<std::string> datasets; // as the file names them (legacy files: at most one)

    const ImatrixEntry* find(const std::string& tensor) const;
    // The mean of every value: the weight given to tensors without an entry (llama-imatrix
    // only sees matrix multiplications, so embeddings and the like have none).
    double meanValue() const;
};

// Reads either format, told apart by the GGUF magic. Throws qs::Error naming the file and the
// problem (truncation, impossible counts, missing sums or counts, negative or non-finite values).
Imatrix readImatrix(const std::string& path);
// The legacy layout: int32 entry count; per entry an int32 name length, the name, int32 ncall,
// int32 nval and nval float32 values (mean squares times ncall); then optionally int32 chunks
// and an int32-length dataset name. Values are divided by ncall, as llama-quantize does.
Imatrix parseLegacyImatrix(std::span<const std::byte> bytes, const std::string& path);

// Per-element weights for one tensor: weight(memoryIndex) for its elements in row-major order.
class ColumnWeights
{
public:
    // Throws qs::Error when the entry's column count does not match the tensor's rows, or its
    // matrices do not match the tensor's first axis. Without an entry every weight is `uniform`.
    ColumnWeights(const ImatrixEntry* entry, const TensorInfo& t, double uniform);
    double at(std::int64_t memoryIndex) const
    {
        if (m_values.empty()) return m_uniform;
        const std::int64_t col = memoryIndex % m_columns;
        const std::int64_t matrix = m_perMatrix ? memoryIndex / m_perMatrix : 0;
        return m_values[static_cast<std::size_t>(matrix * m_columns + col)];
    }
    bool uniform() const { return m_values.empty(); }

private:
    std::span<const float> m_values;
    std::int64_t m_columns = 1, m_perMatrix = 0;
    double m_uniform = 1.0;
};

} // namespace qs::alloc
