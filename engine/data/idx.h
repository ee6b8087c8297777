// IDX files (the MNIST family's format), validated and decoded, and the image datasets made
// of them: Fashion-MNIST as Debian installs it, or a directory holding the four files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace qs::data {

// An IDX array of unsigned bytes (type code 0x08, the only one the image datasets use).
struct IdxArray
{
    std::vector<std::int64_t> dims;
    std::vector<std::uint8_t> values; // row-major, product of dims elements
};

// Larger declared payloads are refused before anything is allocated: the four Fashion-MNIST
// files are 47 MB together, so 1 GiB only stops absurd or hostile headers.
constexpr std::uint64_t kIdxDefaultLimit = std::uint64_t{1} << 30;

// Parses IDX bytes: two zero bytes, the type byte, the dimension count (1..4), big-endian
// 32-bit sizes, then exactly the payload those sizes declare. Throws qs::Error("<where>: ...")
// naming what is wrong and at which byte offset.
IdxArray parseIdx(std::span<const std::byte> bytes, const std::string& where,
                  std::uint64_t limit = kIdxDefaultLimit);

// Reads an IDX file, gzip-compressed or not (zlib tells them apart by the gzip magic), never
// decompressing more than the header declares plus one byte to see that nothing follows.
IdxArray readIdx(const std::string& path, std::uint64_t limit = kIdxDefaultLimit);

// Images as float32 in [0, 1] (byte / 255), laid out N x H x W x 1 (channels last, as Keras
// expects them), with one label per image.
struct ImageSet
{
    std::int64_t count = 0, height = 0, width = 0;
    std::vector<float> images;
    std::vector<std::uint8_t> labels;
};

// Checks that the images are N x H x W and the labels N, with every label below `classes`.
ImageSet loadImageSet(const std::string& imagesPath, const std::string& labelsPath,
                      int classes = 10);

struct Dataset
{
    std::string directory;
    ImageSet train, test;
};

// The directory a dataset argument names: "fashion-mnist" is where Debian's
// dataset-fashion-mnist package puts it; anything else must be a directory holding
// train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and
// t10k-labels-idx1-ubyte, each optionally with ".gz". Throws qs::Error saying what is missing.
std::string resolveDatasetDirectory(const std::string& nameOrDirectory);

// The file of one of those four base names in `directory` (".gz" preferred when both exist).
std::string datasetFile(const std::string& directory, const std::string& baseName);

// Both splits of a dataset argument (see resolveDatasetDirectory).
Dataset loadDataset(const std::string& nameOrDirectory);

} // namespace qs::data
