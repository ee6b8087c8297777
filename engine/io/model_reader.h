// The interface every model-file reader implements, and the list of readers.
#pragma once

#include "io/model.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace qs {

class ModelReader
{
public:
    virtual ~ModelReader() = default;
    virtual std::string_view name() const = 0;
    // Cheap test (file name, magic bytes) whether this reader should handle the path.
    virtual bool canOpen(const std::string& path) const = 0;
    // Reads headers only and validates them; throws qs::Error naming the file and the problem.
    virtual Model open(const std::string& path) const = 0;
};

const std::vector<std::unique_ptr<ModelReader>>& modelReaders();

} // namespace qs
