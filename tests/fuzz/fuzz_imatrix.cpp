// libFuzzer target for the llama.cpp importance-matrix reader (built twice, seeded with legacy
// .dat files and with GGUF imatrix files; readImatrix tells them apart by the magic). Each entry
// is then applied as the allocator applies it: as column weights of a tensor it fits.
#include "alloc/imatrix.h"
#include "core/error.h"
#include "fuzz_util.h"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string path = qs::fuzz::scratchPath(QS_FUZZ_SUFFIX);
    if (!qs::fuzz::writeFile(path, data, size)) return 0;
    try {
        const qs::alloc::Imatrix im = qs::alloc::readImatrix(path);
        const double mean = im.meanValue();
        double sum = 0.0;
        for (const auto& [name, entry] : im.entries) {
            if (im.find(name) != &entry) __builtin_trap();
            qs::TensorInfo t;
            t.name = name;
            const std::int64_t rows = 3;
            t.shape = entry.matrices > 1
                          ? qs::Shape{entry.matrices, rows, entry.columns()}
                          : qs::Shape{rows, entry.columns()};
            const qs::alloc::ColumnWeights w(&entry, t, mean);
            const std::int64_t n = qs::shapeNumel(t.shape);
            for (std::int64_t i = 0; i < n; ++i)
                sum += w.at(i);
        }
        // A tensor without an entry gets the uniform weight.
        qs::TensorInfo other;
        other.shape = {2, 2};
        sum += qs::alloc::ColumnWeights(nullptr, other, mean).at(3);
        if (sum < 0.0) __builtin_trap(); // importance values are never negative
    } catch (const qs::Error&) {
    }
    return 0;
}
