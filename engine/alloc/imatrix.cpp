#include "alloc/imatrix.h"

#include "core/error.h"
#include "io/gguf_reader.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>

namespace qs::alloc {
namespace {

// Little-endian reads of the legacy layout, each checked against what is left of the file.
class Reader
{
public:
    Reader(std::span<const std::byte> b, const std::string& path) : m_b(b), m_path(path) {}
    std::size_t remaining() const { return m_b.size() - m_pos; }
    std::size_t pos() const { return m_pos; }

    std::int32_t i32(const std::string& what)
    {
        need(4, what);
        std::uint32_t u = 0;
        for (int k = 0; k < 4; ++k)
            u |= static_cast<std::uint32_t>(m_b[m_pos + static_cast<std::size_t>(k)]) << (8 * k);
        m_pos += 4;
        return static_cast<std::int32_t>(u);
    }
    std::string text(std::size_t n, const std::string& what)
    {
        need(n, what);
        std::string s(reinterpret_cast<const char*>(m_b.data() + m_pos), n);
        m_pos += n;
        return s;
    }
    std::vector<float> floats(std::size_t n, const std::string& what)
    {
        if (n > remaining() / 4) need(n * 4, what);
        std::vector<float> v(n);
        std::memcpy(v.data(), m_b.data() + m_pos, n * 4);
        m_pos += n * 4;
        return v;
    }
    [[noreturn]] void fail(const std::string& problem, std::size_t at) const
    {
        throw Error(m_path + ": " + problem + " (byte offset " + std::to_string(at) + ")");
    }

private:
    void need(std::size_t n, const std::string& what) const
    {
        if (n > remaining())
            fail("file is truncated in " + what + ": " + std::to_string(n) + " bytes needed, " +
                     std::to_string(remaining()) + " left",
                 m_pos);
    }
    std::span<const std::byte> m_b;
    const std::string& m_path;
    std::size_t m_pos = 0;
};

void checkValues(const std::vector<float>& v, const std::string& path, const std::string& name)
{
    for (std::size_t i = 0; i < v.size(); ++i)
        if (!std::isfinite(v[i]) || v[i] < 0.0f)
            throw Error(path + ": entry '" + name + "' value " + std::to_string(i) +
                        " is negative or not finite; importance values are mean squares");
}

std::vector<float> tensorFloats(const Model& m, const TensorInfo& t, const std::string& path)
{
    if (t.dtype != DType::F32)
        throw Error(path + ": imatrix tensor '" + t.name + "' is " + t.storedType +
                    ", expected F32");
    const auto bytes = m.data(t);
    std::vector<float> v(static_cast<std::size_t>(t.numel()));
    if (bytes.size() < v.size() * 4)
        throw Error(path + ": imatrix tensor '" + t.name + "' has too few data bytes");
    std::memcpy(v.data(), bytes.data(), v.size() * 4);
    return v;
}

bool endsWith(const std::string& s, std::string_view suffix)
{
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Imatrix parseGgufImatrix(const std::string& path)
{
    const Model m = GgufReader().open(path);
    Imatrix im;
    im.path = path;
    im.format = "gguf";
    std::map<std::string, const TensorInfo*> sums, counts;
    for (const TensorInfo& t : m.tensors) {
        if (endsWith(t.name, ".in_sum2"))
            sums[t.name.substr(0, t.name.size() - 8)] = &t;
        else if (endsWith(t.name, ".counts"))
            counts[t.name.substr(0, t.name.size() - 7)] = &t;
    }
    if (sums.empty())
        throw Error(path + ": a GGUF file without '<tensor>.in_sum2' tensors is not an imatrix");
    for (const auto& [name, c] : counts)
        if (!sums.count(name))
            throw Error(path + ": '" + name + ".counts' has no matching '" + name + ".in_sum2'");
    for (const auto& [name, s] : sums) {
        const auto ci = counts.find(name);
        if (ci == counts.end())
            throw Error(path + ": '" + name + ".in_sum2' has no matching '" + name + ".counts'");
        // in_sum2 is ggml [columns, matrices], row-major [matrices, columns]; counts one per matrix.
        const std::int64_t nmat = s->shape.size() >= 2 ? s->shape.front() : 1;
        if (s->shape.empty() || s->shape.size() > 2 || nmat < 1 || s->shape.back() < 1)
            throw Error(path + ": '" + name + ".in_sum2' has shape " + shapeToString(s->shape) +
                        ", expected [matrices, columns]");
        if (ci->second->numel() != nmat)
            throw Error(path + ": '" + name + ".counts' has " +
                        std::to_string(ci->second->numel()) + " values for " +
                        std::to_string(nmat) + " matrices");
        auto values = tensorFloats(m, *s, path);
        const auto cnt = tensorFloats(m, *ci->second, path);
        const std::size_t cols = static_cast<std::size_t>(s->shape.back());
        for (std::size_t j = 0; j < cnt.size(); ++j) {
            if (!std::isfinite(cnt[j]) || cnt[j] < 0.0f)
                throw Error(path + ": '" + name + ".counts' value " + std::to_string(j) +
                            " is negative or not finite");
            // Matrices that saw no input get weight 1, as llama-quantize gives them.
            for (std::size_t i = 0; i < cols; ++i) {
                float& v = values[j * cols + i];
                v = cnt[j] > 0.0f ? v / cnt[j] : 1.0f;
            }
        }
        checkValues(values, path, name);
        im.entries[name] = {std::move(values), nmat};
    }
    if (const auto it = m.metadata.find("imatrix.chunk_count"); it != m.metadata.end()) {
        std::int64_t v = 0;
        const auto& s = it->second;
        if (std::from_chars(s.data(), s.data() + s.size(), v).ec == std::errc()) im.chunks = v;
    }
    if (const auto it = m.metadata.find("imatrix.datasets"); it != m.metadata.end())
        im.datasets.push_back(it->second); // rendered as text by the GGUF reader
    return im;
}

} // namespace

const ImatrixEntry* Imatrix::find(const std::string& tensor) const
{
    const auto it = entries.find(tensor);
    return it == entries.end() ? nullptr : &it->second;
}

double Imatrix::meanValue() const
{
    double sum = 0.0;
    std::size_t n = 0;
    for (const auto& [name, e] : entries) {
        for (const float v : e.values)
            sum += v;
        n += e.values.size();
    }
    return n ? sum / static_cast<double>(n) : 1.0;
}

Imatrix parseLegacyImatrix(std::span<const std::byte> bytes, const std::string& path)
{
    Reader r(bytes, path);
    Imatrix im;
    im.path = path;
    im.format = "dat";
    const std::int32_t n = r.i32("the entry count");
    if (n < 1) r.fail("entry count " + std::to_string(n) + " is not positive", 0);
    for (std::int32_t e = 0; e < n; ++e) {
        const std::string entry = "entry " + std::to_string(e + 1) + " of " + std::to_string(n);
        const std::size_t at = r.pos();
        const std::int32_t len = r.i32("the name length of " + entry);
        if (len < 1) r.fail(entry + " has name length " + std::to_string(len), at);
        std::string name = r.text(static_cast<std::size_t>(len), "the name of " + entry);
        const std::size_t callAt = r.pos();
        const std::int32_t ncall = r.i32("the call count of '" + name + "'");
        if (ncall < 0) r.fail("'" + name + "' has a negative call count " + std::to_string(ncall), callAt);
        const std::size_t valAt = r.pos();
        const std::int32_t nval = r.i32("the value count of '" + name + "'");
        if (nval < 1) r.fail("'" + name + "' has value count " + std::to_string(nval), valAt);
        auto values = r.floats(static_cast<std::size_t>(nval), "the values of '" + name + "'");
        if (ncall > 0) // stored as mean square times ncall
            for (float& v : values)
                v /= static_cast<float>(ncall);
        checkValues(values, path, name);
        if (!im.entries.emplace(name, ImatrixEntry{std::move(values), 1}).second)
            r.fail("entry '" + name + "' appears twice", at);
    }
    // Newer legacy files end with the chunk count and the dataset's name.
    if (r.remaining() > 0) {
        im.chunks = r.i32("the chunk count");
        const std::size_t at = r.pos();
        const std::int32_t len = r.i32("the dataset name length");
        if (len < 0) r.fail("dataset name length " + std::to_string(len) + " is negative", at);
        im.datasets.push_back(r.text(static_cast<std::size_t>(len), "the dataset name"));
        if (r.remaining() > 0)
            r.fail(std::to_string(r.remaining()) + " unexpected bytes after the dataset name",
                   r.pos());
    }
    return im;
}

Imatrix readImatrix(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(path + ": cannot read the imatrix file");
    char magic[4] = {};
    in.read(magic, 4);
    if (in.gcount() == 4 && std::memcmp(magic, "GGUF", 4) == 0) return parseGgufImatrix(path);
    in.clear();
    in.seekg(0);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return parseLegacyImatrix(std::as_bytes(std::span(bytes.data(), bytes.size())), path);
}

ColumnWeights::ColumnWeights(const ImatrixEntry* entry, const TensorInfo& t, double uniform)
    : m_uniform(uniform)
{
    if (!entry) return;
    const std::int64_t inner = t.shape.empty() ? 1 : t.shape.back();
    const auto nval = static_cast<std::int64_t>(entry->values.size());
    // Legacy files do not say how many matrices an entry holds: a merged expert tensor
    // [experts, rows, columns] has experts * columns values there.
    std::int64_t matrices = entry->matrices;
    if (matrices == 1 && t.shape.size() == 3 && nval != inner && nval == t.shape.front() * inner)
        matrices = t.shape.front();
    if (nval != matrices * inner)
        throw Error("imatrix entry '" + t.name + "' has " + std::to_string(nval / matrices) +
                    " columns, but the tensor's rows have " + std::to_string(inner) + " values");
    if (matrices > 1) {
        if (t.shape.size() != 3 || t.shape.front() != matrices)
            throw Error("imatrix entry '" + t.name + "' holds " + std::to_string(matrices) +
                        " matrices, but the tensor has shape " + shapeToString(t.shape));
        m_perMatrix = t.numel() / matrices;
    }
    m_values = entry->values;
    m_columns = inner;
}

} // namespace qs::alloc
