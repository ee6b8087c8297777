// A thin layer over libhdf5's C API: owned handles, files opened from bytes we hold, errors
// turned into qs::Error, string attributes and an up-front check of the superblock.
#pragma once

#include <hdf5.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace qs::h5 {

// An HDF5 identifier that closes itself with the H5*close function it was made for.
class Handle
{
public:
    using Closer = herr_t (*)(hid_t);
    Handle() = default;
    Handle(hid_t id, Closer close) : m_id(id), m_close(close) {}
    ~Handle() { reset(); }
    Handle(Handle&& o) noexcept : m_id(o.m_id), m_close(o.m_close) { o.m_id = -1; }
    Handle& operator=(Handle&& o) noexcept
    {
        if (this != &o) {
            reset();
            m_id = o.m_id;
            m_close = o.m_close;
            o.m_id = -1;
        }
        return *this;
    }
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;

    hid_t get() const { return m_id; }
    bool valid() const { return m_id >= 0; }
    void reset();

private:
    hid_t m_id = -1;
    Closer m_close = nullptr;
};

// Serialises the use of libhdf5 and keeps its error stack off stderr on the calling thread
// (the library's automatic error printing is a per-thread setting in thread-safe builds).
class Session
{
public:
    Session();
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
};

// The innermost messages of the calling thread's HDF5 error stack ("truncated file: eof = ..."),
// then clears it; empty when the stack is empty.
std::string takeErrorText();

// Throws qs::Error("<where>: <what> (<libhdf5's reason>)").
[[noreturn]] void fail(const std::string& where, const std::string& what);
// `id` when it is a valid identifier, otherwise fail(where, what).
hid_t check(hid_t id, const std::string& where, const std::string& what);

// Where the HDF5 signature is: byte 0, 512, 1024, 2048, ... as libhdf5 searches for it.
std::optional<std::uint64_t> findSignature(std::span<const std::byte> bytes);

// Checks the superblock that follows the signature before libhdf5 sees the file: the version,
// the sizes of offsets and lengths, and that the addresses it declares lie inside the bytes.
// Returns the signature's offset; throws qs::Error("<where>: ...").
std::uint64_t validateSuperblock(std::span<const std::byte> bytes, const std::string& where);

// Opens an HDF5 file image read-only without copying it; the bytes must outlive the handle.
Handle openImage(std::span<const std::byte> bytes, const std::string& where);

bool hasAttribute(hid_t object, const std::string& name);
// A string attribute (fixed- or variable-length, scalar or an array) as a list of strings.
// An attribute without elements (Keras writes an empty float array for "no weights") gives an
// empty list. Throws qs::Error for other types.
std::vector<std::string> readStrings(hid_t object, const std::string& name,
                                     const std::string& where);
// Keras 2 splits attributes beyond HDF5's 64 KiB limit into "<name>0", "<name>1", ...; this
// reads either form. nullopt when neither exists.
std::optional<std::vector<std::string>> readKerasStringList(hid_t object, const std::string& name,
                                                            const std::string& where);

} // namespace qs::h5
