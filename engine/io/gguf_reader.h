// Reads GGUF files (llama.cpp / ggml models), versions 2 and 3, little-endian.
#pragma once

#include "io/model_reader.h"

namespace qs {

// Tensors are listed in file order with row-major shapes (ggml's ne reversed), the output
// channel on axis 0 and storedType set to ggml's type name. Tensors of ggml types QuantScope
// cannot decode get DType::GgmlOther: they are listed with their size and summarised in the
// metadata key kGgufNotDecodableKey.
class GgufReader : public ModelReader
{
public:
    std::string_view name() const override { return "gguf"; }
    // Files that start with the magic "GGUF", or are named *.gguf (so that a damaged file is
    // reported as a damaged GGUF file).
    bool canOpen(const std::string& path) const override;
    Model open(const std::string& path) const override;
};

inline constexpr const char* kGgufNotDecodableKey = "quantscope.not_decodable";

} // namespace qs
