// Writes a quantized model to a file: GGUF v3, "packed" safetensors or HDF5.
#pragma once

#include "analysis/executor.h"
#include "analysis/tensor_quantizer.h"
#include "formats/encoded.h"
#include "io/model.h"

#include <functional>
#include <optional>
#include <span>
#include <string>

namespace qs {

// One tensor of the source model as it goes into the export.
struct ExportTensor
{
    const TensorInfo* source = nullptr; // a tensor of the source Model
    std::optional<QuantSpec> spec;      // nullopt: keep the tensor as stored
};

// Produces a tensor's stored form under its spec. The writers call it once per quantized
// tensor, in file order, and release the result before asking for the next one, so an export
// holds one encoded tensor at a time whatever the model's size.
using EncodeFn = std::function<EncodedTensor(const ExportTensor&)>;

struct ExportOptions
{
    // Executor, cancellation and progress (source bytes of every exported tensor, kept ones
    // included) for the whole export; the default encoder runs on it.
    Control control;
    // Empty: encodeTensor() on the source data. A caller that already holds encoded tensors
    // (the GUI after a quantize job) can hand them over instead.
    EncodeFn encode;
};

enum class ExportFormat { Gguf, PackedSafetensors, Hdf5 };

// By extension, case-insensitive: .gguf, .safetensors, .h5 / .hdf5; nullopt for others.
std::optional<ExportFormat> exportFormatForPath(const std::string& path);

// Each writer exports the listed tensors in the order given (tensors not listed are left out)
// to `out` atomically: the file is written to `out + ".part"` next to it and renamed into place
// once complete; on any error (or cancellation) nothing is left behind and an existing `out` is
// untouched. The source model is only read. Errors are qs::Error naming `out` and the problem
// (and the tensor when one is at fault); an output path that is a file of the source model is
// refused.

// GGUF v3. Formats fp32/fp16/bf16 become F32/F16/BF16, ggml block formats their own types;
// kept tensors keep their ggml type where GGUF has one, else become F32. Other formats are
// refused. Metadata of a GGUF source is copied key by key with its exact type.
void exportGguf(const std::string& out, const Model& source, std::span<const ExportTensor> tensors,
                const ExportOptions& options = {});
// safetensors with NAME.qweight / NAME.scales / NAME.zeros per quantized tensor and their
// description in the metadata key kPackedMetadataKey (see README.md, "Exports").
void exportPackedSafetensors(const std::string& out, const Model& source,
                             std::span<const ExportTensor> tensors,
                             const ExportOptions& options = {});
// HDF5: one group per tensor holding `codes`, `scales`, `zeros` (or `values`) and attributes.
void exportHdf5(const std::string& out, const Model& source, std::span<const ExportTensor> tensors,
                const ExportOptions& options = {});
// Picks the writer by the extension of `out`; other extensions are refused.
void exportModel(const std::string& out, const Model& source, std::span<const ExportTensor> tensors,
                 const ExportOptions& options = {});

inline constexpr const char* kPackedMetadataKey = "quantscope.packed";
inline constexpr int kPackedLayoutVersion = 1;

} // namespace qs
