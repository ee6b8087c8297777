#include "io/model_reader.h"

#include "io/safetensors_reader.h"

namespace qs {

const std::vector<std::unique_ptr<ModelReader>>& modelReaders()
{
    static const auto readers = [] {
        std::vector<std::unique_ptr<ModelReader>> r;
        r.push_back(std::make_unique<SafetensorsReader>());
        return r;
    }();
    return readers;
}

} // namespace qs
