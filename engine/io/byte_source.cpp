#include "io/byte_source.h"

#include "core/error.h"

namespace qs {

std::span<const std::byte> ByteSource::range(std::uint64_t offset, std::uint64_t length) const
{
    const auto all = bytes();
    if (offset > all.size() || length > all.size() - offset)
        throw Error(path() + ": byte range " + std::to_string(offset) + "+" +
                    std::to_string(length) + " lies outside the file (" +
                    std::to_string(all.size()) + " bytes)");
    return all.subspan(static_cast<std::size_t>(offset), static_cast<std::size_t>(length));
}

} // namespace qs
