// A small safetensors model for the jobs tests: `count` float matrices of rows x cols with
// seeded values ("layers.N.weight"), a bias and an I64 tensor.
#pragma once

#include "io/model.h"
#include "io/safetensors_writer.h"

#include <QString>

#include <random>

namespace qs::test {

inline std::shared_ptr<const Model> makeModel(const QString& path, int count, std::int64_t rows,
                                              std::int64_t cols)
{
    std::vector<SafetensorsWriter::Entry> entries;
    for (int i = 0; i < count; ++i)
        entries.push_back({"layers." + std::to_string(i) + ".weight", DType::F32, {rows, cols}});
    entries.push_back({"layers.0.bias", DType::F32, {rows}});
    entries.push_back({"position_ids", DType::I64, {4}});
    SafetensorsWriter w(path.toStdString(), entries);
    std::mt19937 rng(9);
    std::normal_distribution<float> normal(0.0f, 0.05f);
    std::vector<float> v(static_cast<std::size_t>(rows * cols));
    for (int i = 0; i < count; ++i) {
        for (auto& x : v)
            x = normal(rng);
        w.write(v.data(), v.size() * 4);
    }
    w.write(v.data(), static_cast<std::size_t>(rows) * 4);
    const std::int64_t ids[4] = {0, 1, 2, 3};
    w.write(ids, sizeof ids);
    w.commit();
    return openModel(path.toStdString());
}

} // namespace qs::test
