#include "io/safetensors_writer.h"

#include "core/error.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <unistd.h>

namespace qs {

SafetensorsWriter::SafetensorsWriter(std::string path, const std::vector<Entry>& entries,
                                     const std::map<std::string, std::string>& metadata)
    : m_path(std::move(path)), m_tmpPath(m_path + ".part")
{
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata.empty()) header["__metadata__"] = metadata;
    std::uint64_t offset = 0;
    for (const auto& e : entries) {
        if (isBlockType(e.dtype))
            throw Error(m_path + ": tensor '" + e.name + "' of type " +
                        std::string(dtypeName(e.dtype)) + " cannot be stored in safetensors");
        const std::uint64_t bytes =
            static_cast<std::uint64_t>(shapeNumel(e.shape)) * dtypeSize(e.dtype);
        header[e.name] = {{"dtype", std::string(dtypeName(e.dtype))},
                          {"shape", e.shape},
                          {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
    }
    m_expected = offset;
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' '); // pad so the data starts 8-byte aligned
    m_file = std::fopen(m_tmpPath.c_str(), "wb");
    if (!m_file) throw Error(m_path + ": cannot write: " + std::strerror(errno));
    unsigned char len[8];
    for (int i = 0; i < 8; ++i)
        len[i] =
            static_cast<unsigned char>((static_cast<std::uint64_t>(text.size()) >> (8 * i)) & 0xff);
    if (std::fwrite(len, 1, 8, m_file) != 8 ||
        std::fwrite(text.data(), 1, text.size(), m_file) != text.size())
        throw Error(m_path + ": write failed: " + std::strerror(errno));
}

SafetensorsWriter::~SafetensorsWriter()
{
    if (m_file) std::fclose(m_file);
    if (!m_committed) std::remove(m_tmpPath.c_str());
}

void SafetensorsWriter::write(const void* data, std::size_t bytes)
{
    if (m_written + bytes > m_expected)
        throw Error(m_path + ": more tensor data than the header declares");
    if (bytes && std::fwrite(data, 1, bytes, m_file) != bytes)
        throw Error(m_path + ": write failed: " + std::strerror(errno));
    m_written += bytes;
}

void SafetensorsWriter::commit()
{
    if (m_written != m_expected)
        throw Error(m_path + ": only " + std::to_string(m_written) + " of " +
                    std::to_string(m_expected) + " data bytes were written");
    const bool ok = std::fflush(m_file) == 0 && ::fsync(fileno(m_file)) == 0;
    const int err = errno;
    std::fclose(m_file);
    m_file = nullptr;
    if (!ok) throw Error(m_path + ": write failed: " + std::strerror(err));
    std::error_code ec;
    std::filesystem::rename(m_tmpPath, m_path, ec);
    if (ec) throw Error(m_path + ": cannot replace the file: " + ec.message());
    m_committed = true;
}

} // namespace qs
