// The names and shapes a .qscope file is made of, shared by its writer and its reader.
#pragma once

#include <cstdint>

namespace qs::session_layout {

// Root attribute whose presence (with this value) marks a QuantScope session.
inline constexpr const char* kMagicAttr = "quantscope_session";
inline constexpr const char* kMagic = "QuantScope session";

inline constexpr int kHistograms = 3; // original, dequantized, error
inline constexpr int kSums = 6; // sum_w2, sum_e2, sum_d2, sum_wd, sum_scaled_e2, max_abs_error

// Bits of the per-tensor `flags` column.
enum Flag : std::uint8_t {
    HasAnalysis = 1,
    HasClip = 2,  // clip[i] holds the representable range
    HasScale = 4, // scale[i] holds the one shared scale
    Scaled = 8,   // ErrorSums::scaled
    Quantizable = 16,
    HasSpec = 32 // the tensor is quantized (else kept)
};

// Upper limits a valid file stays far below; larger counts are reported as damage before any
// memory is reserved for them.
inline constexpr std::uint64_t kMaxPlans = 4096;
inline constexpr std::uint64_t kMaxTensors = std::uint64_t{1} << 22;
inline constexpr std::uint64_t kMaxBins = std::uint64_t{1} << 16;
inline constexpr std::uint64_t kMaxCostTables = 256;
inline constexpr std::uint64_t kMaxCostRows = std::uint64_t{1} << 24;
inline constexpr std::uint64_t kMaxCandidates = 4096;

} // namespace qs::session_layout
