#include "testmodel.h"

#include "io/safetensors_writer.h"

#include <QDir>
#include <QFile>

#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace qs::test {

QString writeSmallModel(const QString& dir, const QString& fileName)
{
    const QString path = QDir(dir).filePath(fileName);
    const std::vector<SafetensorsWriter::Entry> entries{
        {"embed.weight", DType::F32, {64, 40}}, {"layers.0.weight", DType::F32, {16, 32}},
        {"layers.0.bias", DType::F32, {16}},    {"layers.1.weight", DType::F32, {8, 16}},
        {"position_ids", DType::I64, {1, 12}},
    };
    SafetensorsWriter writer(path.toStdString(), entries, {{"source", "quantscope widget tests"}});
    std::mt19937 rng(20240611);
    for (const auto& e : entries) {
        const auto n = static_cast<std::size_t>(shapeNumel(e.shape));
        if (e.dtype == DType::F32) {
            // Row scales differ like in trained layers, so per-channel beats per-tensor.
            std::normal_distribution<float> normal(0.0f, 1.0f);
            std::vector<float> v(n);
            const std::size_t cols = n / static_cast<std::size_t>(e.shape[0]);
            for (std::size_t i = 0; i < n; ++i)
                v[i] = normal(rng) * (0.02f + 0.01f * static_cast<float>(i / cols % 5));
            writer.write(v.data(), v.size() * sizeof(float));
        } else {
            std::vector<std::int64_t> v(n);
            for (std::size_t i = 0; i < n; ++i)
                v[i] = static_cast<std::int64_t>(i);
            writer.write(v.data(), v.size() * sizeof(std::int64_t));
        }
    }
    writer.commit();
    return path;
}

QString writeNonFiniteModel(const QString& dir, const QString& fileName)
{
    const QString path = QDir(dir).filePath(fileName);
    constexpr float nan = std::numeric_limits<float>::quiet_NaN();
    constexpr float inf = std::numeric_limits<float>::infinity();
    struct Tensor
    {
        const char* name;
        std::vector<std::pair<std::size_t, float>> specials; // index, value
    };
    const std::vector<Tensor> tensors{
        {"clean.weight", {}},
        {"mixed.weight", {{3, nan}, {40, nan}, {77, nan}, {100, inf}}},
        {"nan.weight", {{5, nan}}},
        {"inf.weight", {{9, inf}, {90, -inf}}},
    };
    std::vector<SafetensorsWriter::Entry> entries;
    for (const auto& t : tensors)
        entries.push_back({t.name, DType::F32, {8, 16}});
    SafetensorsWriter writer(path.toStdString(), entries, {});
    std::mt19937 rng(20240612);
    std::normal_distribution<float> normal(0.0f, 0.05f);
    for (const auto& t : tensors) {
        std::vector<float> v(8 * 16);
        for (float& x : v)
            x = normal(rng);
        for (const auto& [i, value] : t.specials)
            v[i] = value;
        writer.write(v.data(), v.size() * sizeof(float));
    }
    writer.commit();
    return path;
}

QString writeGarbage(const QString& dir, const QString& fileName)
{
    const QString path = QDir(dir).filePath(fileName);
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly)) return {};
    // A header length far beyond the file, then noise: every reader must refuse it cleanly.
    const QByteArray bytes = QByteArray::fromHex("ffffff0000000000") +
                             QByteArray("{\"not json", 10) + QByteArray(300, '\x7f');
    f.write(bytes);
    return path;
}

} // namespace qs::test
