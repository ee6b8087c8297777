// libFuzzer target for the IDX dataset reader (the MNIST family's files, plain or gzip): the
// input is read from a file as the dataset loader reads it. An uncompressed input is also
// parsed from memory, and both readers must agree on whether it is valid and on its contents.
#include "core/error.h"
#include "data/idx.h"
#include "fuzz_util.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string path = qs::fuzz::scratchPath(".idx");
    if (!qs::fuzz::writeFile(path, data, size)) return 0;
    std::optional<qs::data::IdxArray> fromFile, fromMemory;
    try {
        fromFile = qs::data::readIdx(path);
    } catch (const qs::Error&) {
    }
    // gzip data starts with 0x1f 0x8b; IDX data with two zero bytes.
    if (size > 0 && data[0] == 0) {
        try {
            fromMemory = qs::data::parseIdx(
                std::as_bytes(std::span(reinterpret_cast<const char*>(data), size)), "memory");
        } catch (const qs::Error&) {
        }
        if (fromFile.has_value() != fromMemory.has_value()) __builtin_trap();
        if (fromFile && (fromFile->dims != fromMemory->dims || fromFile->values != fromMemory->values))
            __builtin_trap();
    }
    return 0;
}
