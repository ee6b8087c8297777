// Turns one HDF5 dataset into a tensor: its type and shape, and where its values are.
#pragma once

#include "io/model.h"

#include <hdf5.h>

#include <cstdint>
#include <optional>
#include <string>

namespace qs::h5 {

// An HDF5 file image that is (part of) one of a model's files.
struct ImageContext
{
    Model& model;
    std::string where;             // names the file (and archive member) in messages
    int fileIndex = 0;             // Model::files entry holding the image
    std::uint64_t imageOffset = 0; // where the image starts in that entry
    std::uint64_t imageSize = 0;
    // Chunked, compressed and compact datasets are decoded into memory when the model is
    // opened; one larger than this is refused.
    std::uint64_t maxDecodedBytes = std::uint64_t{4} << 30;
};

// The tensor for the dataset at `path`, named by the path and with channel axis 0.
// Contiguous unfiltered data is referenced in place; other layouts are read with H5Dread into a
// buffer appended to ctx.model.files. Datasets that hold no numbers QuantScope reads (strings,
// compound types, unsigned integers wider than 8 bits, a null dataspace) give nullopt and the
// reason in `skipped`. Broken or unreadable data throws qs::Error("<where>: dataset '<path>':
// ...").
std::optional<TensorInfo> datasetTensor(ImageContext& ctx, hid_t file, const std::string& path,
                                        std::string& skipped);

} // namespace qs::h5
