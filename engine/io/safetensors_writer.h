// Writes a safetensors file atomically: header first, then tensor data streamed in order.
#pragma once

#include "core/tensor.h"

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace qs {

class SafetensorsWriter
{
public:
    struct Entry
    {
        std::string name;
        DType dtype;
        Shape shape;
    };
    // Opens a temporary file next to `path` and writes the header; throws qs::Error.
    SafetensorsWriter(std::string path, const std::vector<Entry>& entries,
                      const std::map<std::string, std::string>& metadata = {});
    ~SafetensorsWriter(); // removes the temporary file unless commit() succeeded
    SafetensorsWriter(const SafetensorsWriter&) = delete;
    SafetensorsWriter& operator=(const SafetensorsWriter&) = delete;

    // Appends the next bytes of tensor data (tensors in the order given, each complete).
    void write(const void* data, std::size_t bytes);
    // Checks every byte was written, flushes, and renames the file into place.
    void commit();

private:
    std::string m_path, m_tmpPath;
    std::FILE* m_file = nullptr;
    std::uint64_t m_expected = 0, m_written = 0;
    bool m_committed = false;
};

} // namespace qs
