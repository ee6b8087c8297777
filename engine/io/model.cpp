#include "io/model.h"

#include "core/error.h"
#include "io/model_reader.h"

#include <filesystem>

namespace qs {

std::span<const std::byte> Model::data(const TensorInfo& t) const
{
    if (t.fileIndex < 0 || static_cast<std::size_t>(t.fileIndex) >= files.size())
        throw Error(path + ": tensor '" + t.name + "' refers to a missing file");
    return files[static_cast<std::size_t>(t.fileIndex)]->range(t.offset, t.byteSize);
}

void Model::checkIntact() const
{
    for (const auto& f : files)
        if (f && f->damaged())
            throw Error(f->path() +
                        ": the file was truncated or rewritten by another program while it "
                        "was being read; reopen it to see its current contents");
}

const TensorInfo* Model::find(const std::string& name) const
{
    for (const auto& t : tensors)
        if (t.name == name) return &t;
    return nullptr;
}

std::int64_t Model::totalParams() const
{
    std::int64_t n = 0;
    for (const auto& t : tensors)
        n += t.numel();
    return n;
}

std::uint64_t Model::totalBytes() const
{
    std::uint64_t n = 0;
    for (const auto& t : tensors)
        n += t.byteSize;
    return n;
}

std::shared_ptr<const Model> openModel(const std::string& path)
{
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) throw Error(path + ": no such file");
    if (std::filesystem::is_directory(path, ec))
        throw Error(path + ": is a folder, not a model file");
    for (const auto& reader : modelReaders())
        if (reader->canOpen(path)) return std::make_shared<const Model>(reader->open(path));
    throw Error(path + ": not a model file QuantScope can read (supported: safetensors, "
                       "*.safetensors.index.json, GGUF, ONNX, NumPy .npy/.npz, "
                       "PyTorch checkpoints, Keras/HDF5)");
}

} // namespace qs
