#include "io/hdf5_file.h"

#include "core/error.h"

#include <H5LTpublic.h>

#include <cstring>
#include <mutex>

namespace qs::h5 {
namespace {

constexpr unsigned char kSignature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

// libhdf5 is built thread-safe on Debian, but one lock keeps a non-thread-safe build correct
// too; opening a model is rare and short next to the work that follows it.
std::recursive_mutex& libraryLock()
{
    static std::recursive_mutex m;
    return m;
}

thread_local int t_depth = 0;
thread_local H5E_auto2_t t_savedFunc = nullptr;
thread_local void* t_savedData = nullptr;

std::uint64_t readLE(std::span<const std::byte> b, std::uint64_t at, unsigned size)
{
    std::uint64_t v = 0;
    for (unsigned i = 0; i < size && i < 8; ++i)
        v |= std::uint64_t(std::to_integer<unsigned char>(b[at + i])) << (8 * i);
    return v;
}

bool allOnes(std::span<const std::byte> b, std::uint64_t at, unsigned size)
{
    for (unsigned i = 0; i < size; ++i)
        if (std::to_integer<unsigned char>(b[at + i]) != 0xff) return false;
    return true;
}

std::string trimString(const char* p, std::size_t n, H5T_str_t pad)
{
    std::size_t len = 0;
    while (len < n && p[len] != '\0')
        ++len;
    if (pad == H5T_STR_SPACEPAD)
        while (len > 0 && p[len - 1] == ' ')
            --len;
    return std::string(p, len);
}

} // namespace

void Handle::reset()
{
    if (m_id >= 0 && m_close) m_close(m_id);
    m_id = -1;
}

Session::Session()
{
    libraryLock().lock();
    if (t_depth++ == 0) {
        H5Eget_auto2(H5E_DEFAULT, &t_savedFunc, &t_savedData);
        H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
        H5Eclear2(H5E_DEFAULT);
    }
}

Session::~Session()
{
    if (--t_depth == 0) {
        H5Eclear2(H5E_DEFAULT);
        H5Eset_auto2(H5E_DEFAULT, t_savedFunc, t_savedData);
    }
    libraryLock().unlock();
}

std::string takeErrorText()
{
    // Walking upwards starts at the innermost failure, the one that says what is wrong with the
    // file; the outer entries only say which call gave up.
    std::vector<std::string> messages;
    auto walk = [](unsigned, const H5E_error2_t* e, void* data) -> herr_t {
        auto& out = *static_cast<std::vector<std::string>*>(data);
        if (e && e->desc && *e->desc && out.size() < 2) out.emplace_back(e->desc);
        return 0;
    };
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk, &messages);
    H5Eclear2(H5E_DEFAULT);
    std::string text;
    for (const auto& m : messages)
        text += (text.empty() ? "" : "; ") + m;
    return text;
}

void fail(const std::string& where, const std::string& what)
{
    const std::string reason = takeErrorText();
    throw Error(where + ": " + what + (reason.empty() ? "" : " (libhdf5: " + reason + ")"));
}

hid_t check(hid_t id, const std::string& where, const std::string& what)
{
    if (id < 0) fail(where, what);
    return id;
}

std::optional<std::uint64_t> findSignature(std::span<const std::byte> bytes)
{
    for (std::uint64_t at = 0; at + sizeof kSignature <= bytes.size(); at = at ? at * 2 : 512)
        if (std::memcmp(bytes.data() + at, kSignature, sizeof kSignature) == 0) return at;
    return std::nullopt;
}

std::uint64_t validateSuperblock(std::span<const std::byte> bytes, const std::string& where)
{
    const auto sig = findSignature(bytes);
    if (!sig)
        throw Error(where +
                    ": not an HDF5 file: no HDF5 signature at byte 0, 512, 1024, 2048, "
                    "... (" +
                    std::to_string(bytes.size()) + " bytes)");
    const std::uint64_t s = *sig;
    const std::uint64_t size = bytes.size();
    auto need = [&](std::uint64_t n) {
        if (s + n > size)
            throw Error(where + ": the HDF5 superblock at byte " + std::to_string(s) +
                        " is cut off: the file ends at byte " + std::to_string(size));
    };
    need(9);
    const unsigned version = std::to_integer<unsigned>(bytes[s + 8]);
    std::uint64_t offsetsAt = 0, addrAt = 0, eofIndex = 0;
    unsigned addrCount = 0;
    switch (version) {
    case 0:
    case 1:
        offsetsAt = s + 13;
        addrAt = s + (version == 0 ? 24 : 28);
        addrCount = 4; // base, free-space info, end of file, driver info
        eofIndex = 2;
        break;
    case 2:
    case 3:
        offsetsAt = s + 9;
        addrAt = s + 12;
        addrCount = 4; // base, superblock extension, end of file, root object header
        eofIndex = 2;
        break;
    default:
        throw Error(where + ": HDF5 superblock version " + std::to_string(version) + " at byte " +
                    std::to_string(s) + " is not one libhdf5 1.10 knows (0 to 3)");
    }
    need(offsetsAt - s + 2);
    const unsigned offsetSize = std::to_integer<unsigned>(bytes[offsetsAt]);
    const unsigned lengthSize = std::to_integer<unsigned>(bytes[offsetsAt + 1]);
    auto validSize = [](unsigned n) { return n == 2 || n == 4 || n == 8 || n == 16 || n == 32; };
    if (!validSize(offsetSize) || !validSize(lengthSize))
        throw Error(where + ": corrupt HDF5 superblock at byte " + std::to_string(s) +
                    ": sizes of offsets and lengths are " + std::to_string(offsetSize) + " and " +
                    std::to_string(lengthSize) + " bytes (2, 4, 8, 16 or 32 expected)");
    need(addrAt - s + std::uint64_t(addrCount) * offsetSize);
    if (offsetSize > 8) return s; // wider than any file we can map: libhdf5 checks the rest
    const std::uint64_t base = readLE(bytes, addrAt, offsetSize);
    const std::uint64_t eofPos = addrAt + eofIndex * offsetSize;
    if (base > size)
        throw Error(where + ": corrupt HDF5 superblock at byte " + std::to_string(s) +
                    ": base address " + std::to_string(base) +
                    " lies beyond the end of the file (" + std::to_string(size) + " bytes)");
    if (!allOnes(bytes, eofPos, offsetSize)) {
        // libhdf5 compares this with the file's size plus the base address it settles on, the
        // signature's position, less the driver's base, the same position: the file's size.
        const std::uint64_t eof = readLE(bytes, eofPos, offsetSize);
        if (eof > size)
            throw Error(where + ": the file is truncated: its HDF5 superblock (byte " +
                        std::to_string(s) + ") says it holds " + std::to_string(base + eof) +
                        " bytes, but it has " + std::to_string(size));
    }
    return s;
}

Handle openImage(std::span<const std::byte> bytes, const std::string& where)
{
    validateSuperblock(bytes, where);
    // Read-only, neither copied nor released by libhdf5: the bytes are a mapping we own.
    const hid_t id = H5LTopen_file_image(const_cast<std::byte*>(bytes.data()), bytes.size(),
                                         H5LT_FILE_IMAGE_DONT_COPY | H5LT_FILE_IMAGE_DONT_RELEASE);
    // H5LT cleans up after a failed open with API calls that clear the error stack, so there is
    // no reason from the library to report here.
    return Handle(
        check(id, where, "libhdf5 cannot open the file: its structure is damaged or unsupported"),
        H5Fclose);
}

bool hasAttribute(hid_t object, const std::string& name)
{
    const htri_t r = H5Aexists(object, name.c_str());
    if (r < 0) H5Eclear2(H5E_DEFAULT);
    return r > 0;
}

std::vector<std::string> readStrings(hid_t object, const std::string& name,
                                     const std::string& where)
{
    const std::string what = "attribute '" + name + "'";
    Handle attr(check(H5Aopen(object, name.c_str(), H5P_DEFAULT), where, "cannot open " + what),
                H5Aclose);
    Handle type(check(H5Aget_type(attr.get()), where, "cannot read the type of " + what), H5Tclose);
    Handle space(check(H5Aget_space(attr.get()), where, "cannot read the shape of " + what),
                 H5Sclose);
    const hssize_t n = H5Sget_simple_extent_npoints(space.get());
    if (n < 0) fail(where, "cannot read the shape of " + what);
    if (n == 0) return {};
    if (H5Tget_class(type.get()) != H5T_STRING)
        throw Error(where + ": " + what + " is not a string");
    constexpr hssize_t kMaxStrings = hssize_t{1} << 24;
    if (n > kMaxStrings)
        throw Error(where + ": " + what + " holds " + std::to_string(n) + " strings (at most " +
                    std::to_string(kMaxStrings) + " are read)");
    const auto count = static_cast<std::size_t>(n);
    std::vector<std::string> out;
    out.reserve(count);
    const htri_t variable = H5Tis_variable_str(type.get());
    if (variable < 0) fail(where, "cannot read the type of " + what);
    if (variable) {
        Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
        H5Tset_size(mem.get(), H5T_VARIABLE);
        H5Tset_cset(mem.get(), H5Tget_cset(type.get()));
        std::vector<char*> ptrs(count, nullptr);
        if (H5Aread(attr.get(), mem.get(), ptrs.data()) < 0) fail(where, "cannot read " + what);
        for (char* p : ptrs)
            out.emplace_back(p ? p : "");
        H5Dvlen_reclaim(mem.get(), space.get(), H5P_DEFAULT, ptrs.data());
        return out;
    }
    const std::size_t size = H5Tget_size(type.get());
    constexpr std::size_t kMaxBytes = std::size_t{64} << 20;
    if (size == 0 || size > kMaxBytes / count)
        throw Error(where + ": " + what + " has an unreadable size (" + std::to_string(count) +
                    " strings of " + std::to_string(size) + " bytes)");
    const H5T_str_t pad = H5Tget_strpad(type.get());
    std::vector<char> buf(size * count);
    if (H5Aread(attr.get(), type.get(), buf.data()) < 0) fail(where, "cannot read " + what);
    for (std::size_t i = 0; i < count; ++i)
        out.push_back(trimString(buf.data() + i * size, size, pad));
    return out;
}

std::optional<std::vector<std::string>> readKerasStringList(hid_t object, const std::string& name,
                                                            const std::string& where)
{
    if (hasAttribute(object, name)) return readStrings(object, name, where);
    if (!hasAttribute(object, name + "0")) return std::nullopt;
    std::vector<std::string> all;
    for (int chunk = 0; hasAttribute(object, name + std::to_string(chunk)); ++chunk) {
        auto part = readStrings(object, name + std::to_string(chunk), where);
        all.insert(all.end(), part.begin(), part.end());
    }
    return all;
}

} // namespace qs::h5
