// Reads safetensors files and sharded safetensors models (*.safetensors.index.json).
#pragma once

#include "io/model_reader.h"

namespace qs {

class SafetensorsReader : public ModelReader
{
public:
    std::string_view name() const override { return "safetensors"; }
    bool canOpen(const std::string& path) const override;
    Model open(const std::string& path) const override;
};

} // namespace qs
