// libFuzzer target for sharded safetensors models: the input is the index
// (model.safetensors.index.json) in a folder that holds three small valid shards, which the
// index may name or not. The model is opened through the index and its tensors are read, as
// fuzz_reader.cpp reads single files.
#include "analysis/analyze.h"
#include "core/error.h"
#include "fuzz_util.h"
#include "io/safetensors_reader.h"

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace {

// A safetensors file: little-endian u64 header length, the JSON header, then the data.
void writeShard(const std::string& path, const std::string& header, std::size_t dataBytes)
{
    std::vector<std::uint8_t> bytes(8);
    const std::uint64_t n = header.size();
    for (int i = 0; i < 8; ++i)
        bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(n >> (8 * i));
    bytes.insert(bytes.end(), header.begin(), header.end());
    for (std::size_t i = 0; i < dataBytes; ++i)
        bytes.push_back(static_cast<std::uint8_t>(0x3c + i % 3)); // small finite values
    qs::fuzz::writeFile(path, bytes.data(), bytes.size());
}

// The folder of this process's index and its shards, made on the first call.
const std::string& folder()
{
    static const std::string dir = [] {
        const std::string d = qs::fuzz::scratchPath("-index");
        std::filesystem::create_directories(d);
        writeShard(d + "/model-00001-of-00002.safetensors",
                   R"({"a.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})", 16);
        writeShard(d + "/model-00002-of-00002.safetensors",
                   R"({"__metadata__":{"format":"pt"},)"
                   R"("b.weight":{"dtype":"F16","shape":[4],"data_offsets":[0,8]},)"
                   R"("b.bias":{"dtype":"BF16","shape":[2],"data_offsets":[8,12]}})",
                   12);
        writeShard(d + "/other.safetensors",
                   R"({"a.weight":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 4);
        return d;
    }();
    return dir;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string path = folder() + "/model.safetensors.index.json";
    if (!qs::fuzz::writeFile(path, data, size)) return 0;
    try {
        const qs::SafetensorsReader reader;
        const qs::Model model = reader.open(path);
        std::vector<float> values;
        for (const auto& t : model.tensors) {
            if (!qs::isQuantizable(t.dtype) || t.numel() > (1 << 20)) continue;
            values.resize(static_cast<std::size_t>(t.numel()));
            qs::TensorQuantizer qz(
                model.data(t), t,
                qs::QuantSpec{qs::findFormat("int8"),
                              qs::Granularity{qs::Granularity::Kind::Channel, 0}});
            qs::dequantizeTensor(qz, values.data(), qs::Control{});
        }
    } catch (const qs::Error&) {
    }
    return 0;
}
