// Builds small GGUF files byte by byte for tests/engine/tst_export.cpp, following the GGUF
// specification directly (not QuantScope's writer), and keeps the raw metadata bytes so that
// a test can check they were copied exactly.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace qs::test {

class GgufBuilder
{
public:
    enum Type : std::uint32_t {
        U8 = 0,
        I8,
        U16,
        I16,
        U32,
        I32,
        F32,
        Bool,
        String,
        Array,
        U64,
        I64,
        F64
    };

    static void le(std::string& s, std::uint64_t v, int bytes)
    {
        for (int i = 0; i < bytes; ++i)
            s += static_cast<char>((v >> (8 * i)) & 0xff);
    }
    static void str(std::string& s, const std::string& v)
    {
        le(s, v.size(), 8);
        s += v;
    }
    static std::string f32(float v)
    {
        std::uint32_t u;
        std::memcpy(&u, &v, 4);
        std::string s;
        le(s, u, 4);
        return s;
    }
    static std::string f64(double v)
    {
        std::uint64_t u;
        std::memcpy(&u, &v, 8);
        std::string s;
        le(s, u, 8);
        return s;
    }

    // A key with its type and the value's encoded bytes (for arrays: element type, count and
    // elements), appended as is.
    void add(const std::string& key, Type type, const std::string& value)
    {
        str(m_kv, key);
        le(m_kv, type, 4);
        m_kv += value;
        ++m_kvCount;
    }
    void addInt(const std::string& key, Type type, std::uint64_t v, int bytes)
    {
        std::string s;
        le(s, v, bytes);
        add(key, type, s);
    }
    void addString(const std::string& key, const std::string& v)
    {
        std::string s;
        str(s, v);
        add(key, String, s);
    }
    void setAlignment(std::uint32_t a)
    {
        m_alignment = a;
        addInt("general.alignment", U32, a, 4);
    }

    // ne in ggml order (ne[0] is the row length); data is the tensor's stored bytes.
    void tensor(const std::string& name, std::vector<std::uint64_t> ne, std::uint32_t type,
                std::string data)
    {
        m_tensors.push_back({name, std::move(ne), type, std::move(data)});
    }

    const std::string& rawMetadata() const { return m_kv; }
    std::uint64_t metadataCount() const { return m_kvCount; }

    std::string build() const
    {
        std::string s = "GGUF";
        le(s, 3, 4);
        le(s, m_tensors.size(), 8);
        le(s, m_kvCount, 8);
        s += m_kv;
        std::uint64_t offset = 0;
        for (const auto& t : m_tensors) {
            str(s, t.name);
            le(s, t.ne.size(), 4);
            for (const auto n : t.ne)
                le(s, n, 8);
            le(s, t.type, 4);
            le(s, offset, 8);
            offset += pad(t.data.size());
        }
        s.append(pad(s.size()) - s.size(), '\0');
        for (const auto& t : m_tensors) {
            s += t.data;
            s.append(pad(t.data.size()) - t.data.size(), '\0');
        }
        return s;
    }

private:
    struct Tensor
    {
        std::string name;
        std::vector<std::uint64_t> ne;
        std::uint32_t type;
        std::string data;
    };
    std::uint64_t pad(std::uint64_t n) const
    {
        return (n + m_alignment - 1) / m_alignment * m_alignment;
    }

    std::string m_kv;
    std::uint64_t m_kvCount = 0;
    std::uint32_t m_alignment = 32;
    std::vector<Tensor> m_tensors;
};

} // namespace qs::test
