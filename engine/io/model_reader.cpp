#include "io/model_reader.h"

#include "io/gguf_reader.h"
#include "io/hdf5_reader.h"
#include "io/npy_reader.h"
#include "io/npz_reader.h"
#include "io/onnx_reader.h"
#include "io/safetensors_reader.h"
#include "io/torch_reader.h"

namespace qs {

const std::vector<std::unique_ptr<ModelReader>>& modelReaders()
{
    static const auto readers = [] {
        std::vector<std::unique_ptr<ModelReader>> r;
        // GGUF first: its magic is definite, while a huge GGUF file can pass for safetensors.
        r.push_back(std::make_unique<GgufReader>());
        r.push_back(std::make_unique<SafetensorsReader>());
        r.push_back(std::make_unique<NpyReader>());
        r.push_back(std::make_unique<TorchReader>()); // before npz: both are zip archives
        r.push_back(std::make_unique<NpzReader>());
        r.push_back(std::make_unique<Hdf5Reader>()); // before ONNX: a definite signature
        // ONNX after safetensors: recognised by a walk of its top-level protobuf fields.
        r.push_back(std::make_unique<OnnxReader>());
        return r;
    }();
    return readers;
}

} // namespace qs
