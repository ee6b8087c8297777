// An open model: its tensors (headers only) and metadata, with data mapped on demand.
#pragma once

#include "core/tensor.h"
#include "io/mapped_file.h"

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace qs {

struct Model
{
    std::string path;   // what the user opened (a file or a shard index)
    std::string format; // "safetensors", ...
    std::vector<TensorInfo> tensors;
    std::map<std::string, std::string> metadata;
    std::vector<std::shared_ptr<const ByteSource>> files; // mapped files or decoded buffers

    // The stored bytes of a tensor, a view into the mapping (never a copy).
    std::span<const std::byte> data(const TensorInfo& t) const;
    const TensorInfo* find(const std::string& name) const;
    // Throws qs::Error naming the file when one of the model's files shrank while it was being
    // read (io/mapping_guard.h): anything computed from its data since then is not valid.
    void checkIntact() const;
    std::int64_t totalParams() const;
    std::uint64_t totalBytes() const;
};

// Opens any supported model file by asking each reader in turn; throws qs::Error.
std::shared_ptr<const Model> openModel(const std::string& path);

} // namespace qs
