// The sampled content fingerprint of a model file (see ModelFingerprint).
#include "core/error.h"
#include "session/session.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

namespace qs {
namespace {

constexpr std::uint64_t kEdge = std::uint64_t{4} << 20;   // first and last 4 MiB
constexpr std::uint64_t kPiece = std::uint64_t{64} << 10; // 64 KiB pieces
constexpr std::uint64_t kPieces = 64;

struct Fnv1a
{
    std::uint64_t h = 0xcbf29ce484222325ULL;
    void add(const unsigned char* p, std::size_t n)
    {
        for (std::size_t i = 0; i < n; ++i) {
            h ^= p[i];
            h *= 0x100000001b3ULL;
        }
    }
    void add(std::uint64_t v)
    {
        unsigned char b[8];
        for (int i = 0; i < 8; ++i)
            b[i] = static_cast<unsigned char>(v >> (8 * i));
        add(b, 8);
    }
};

class Reader
{
public:
    explicit Reader(const std::string& path) : m_path(path), m_f(std::fopen(path.c_str(), "rb"))
    {
        if (!m_f) throw Error(path + ": cannot read the model file (" + std::strerror(errno) + ")");
    }
    ~Reader() { std::fclose(m_f); }
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;

    std::uint64_t size()
    {
        if (fseeko(m_f, 0, SEEK_END) != 0) fail();
        const off_t end = ftello(m_f);
        if (end < 0) fail();
        return static_cast<std::uint64_t>(end);
    }
    // Hashes bytes [at, at + n) of the file.
    void hash(Fnv1a& h, std::uint64_t at, std::uint64_t n)
    {
        if (fseeko(m_f, static_cast<off_t>(at), SEEK_SET) != 0) fail();
        m_buf.resize(kPiece);
        while (n > 0) {
            const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(n, kPiece));
            const std::size_t got = std::fread(m_buf.data(), 1, want, m_f);
            if (got != want) fail();
            h.add(m_buf.data(), got);
            n -= got;
        }
    }

private:
    [[noreturn]] void fail() const
    {
        throw Error(m_path + ": cannot read the model file to fingerprint it (" +
                    (std::ferror(m_f) ? std::strerror(errno) : "it changed while being read") +
                    ")");
    }
    std::string m_path;
    std::FILE* m_f;
    std::vector<unsigned char> m_buf;
};

} // namespace

ModelFingerprint fingerprintFile(const std::string& path)
{
    Reader r(path);
    ModelFingerprint fp;
    fp.size = r.size();
    Fnv1a h;
    h.add(fp.size);
    if (fp.size <= 2 * kEdge) {
        r.hash(h, 0, fp.size);
    } else {
        r.hash(h, 0, kEdge);
        // Piece k starts at floor(k * span / 63), span = size - 64 KiB, so the last piece ends
        // at the end of the file; split so that the product cannot overflow.
        const std::uint64_t span = fp.size - kPiece, q = span / (kPieces - 1),
                            rem = span % (kPieces - 1);
        for (std::uint64_t k = 0; k < kPieces; ++k)
            r.hash(h, q * k + rem * k / (kPieces - 1), kPiece);
        r.hash(h, fp.size - kEdge, kEdge);
    }
    fp.hash = h.h;
    return fp;
}

FingerprintCheck checkFingerprint(const Session& session)
{
    try {
        return fingerprintFile(session.modelPath) == session.fingerprint
                   ? FingerprintCheck::Same
                   : FingerprintCheck::Changed;
    } catch (const Error&) {
        return FingerprintCheck::Missing;
    }
}

const SessionPlan* Session::findPlan(const std::string& name) const
{
    for (const auto& p : plans)
        if (p.name == name) return &p;
    return nullptr;
}

} // namespace qs
