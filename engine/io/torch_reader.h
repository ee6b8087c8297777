// Reads PyTorch checkpoints (torch.save's zip format): tensors of state dicts, nested or not.
#pragma once

#include "io/model_reader.h"

namespace qs {

// The pickle (<prefix>/data.pkl) is read by a restricted unpickler that only accepts tensors,
// storages and plain values; tensor data stays in the archive's stored members, mapped in
// place. Nested dicts give dotted names ("model.layer.weight"); other values go to metadata.
class TorchReader : public ModelReader
{
public:
    std::string_view name() const override { return "pytorch"; }
    // Any zip archive with a member "<prefix>/data.pkl", whatever the file is called.
    bool canOpen(const std::string& path) const override;
    Model open(const std::string& path) const override;
};

} // namespace qs
