#include "data/idx.h"

#include "core/error.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <memory>

namespace qs::data {
namespace {

constexpr int kMaxDims = 4; // images are 3-D, labels 1-D; more is not an image dataset
constexpr std::uint8_t kUnsignedByte = 0x08;

// The magic number's four bytes: checked before the dimension sizes are read, so a file that
// is not IDX at all is reported as such rather than as an odd size.
int checkMagic(const std::uint8_t* m, const std::string& where)
{
    if (m[0] != 0 || m[1] != 0)
        throw Error(where + ": not an IDX file (the first two bytes are not zero)");
    if (m[2] != kUnsignedByte)
    {
        const char* hex = "0123456789abcdef";
        const std::string code{'0', 'x', hex[m[2] >> 4], hex[m[2] & 15]};
        throw Error(where + ": IDX element type " + code +
                    " is not supported (only 0x08, unsigned bytes)");
    }
    if (m[3] < 1 || m[3] > kMaxDims)
        throw Error(where + ": IDX dimension count " + std::to_string(m[3]) +
                    " is outside 1.." + std::to_string(kMaxDims));
    return m[3];
}

// Big-endian sizes; returns the payload's byte count, refusing one above the limit before
// anything that large is allocated.
std::uint64_t readDims(const std::uint8_t* p, int n, std::vector<std::int64_t>& dims,
                       std::uint64_t limit, const std::string& where)
{
    std::uint64_t total = 1;
    for (int i = 0; i < n; ++i) {
        const std::uint32_t d = (std::uint32_t{p[4 * i]} << 24) | (std::uint32_t{p[4 * i + 1]} << 16) |
                                (std::uint32_t{p[4 * i + 2]} << 8) | std::uint32_t{p[4 * i + 3]};
        dims.push_back(d);
        // Each factor is below 2^32 and the running product stays at or below the limit
        // (< 2^63), so the product cannot overflow before it is checked.
        total *= d;
        if (total > limit)
            throw Error(where + ": the IDX header declares more than " + std::to_string(limit) +
                        " bytes of data (dimension " + std::to_string(i) + " is " +
                        std::to_string(d) + ")");
    }
    return total;
}

struct GzCloser
{
    void operator()(gzFile_s* f) const { gzclose(f); }
};

// Reads exactly n bytes unless the stream ends first; returns how many were read.
std::size_t gzReadSome(gzFile f, std::uint8_t* out, std::size_t n, const std::string& where)
{
    std::size_t done = 0;
    while (done < n) {
        const unsigned want = static_cast<unsigned>(std::min<std::size_t>(n - done, INT_MAX / 2));
        const int got = gzread(f, out + done, want);
        if (got < 0) {
            int code = 0;
            const char* msg = gzerror(f, &code);
            throw Error(where + ": cannot decompress (" + std::string(msg ? msg : "zlib error") +
                        ") after " + std::to_string(done) + " bytes of a read");
        }
        if (got == 0) break;
        done += static_cast<std::size_t>(got);
    }
    return done;
}

} // namespace

IdxArray parseIdx(std::span<const std::byte> bytes, const std::string& where, std::uint64_t limit)
{
    const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
    if (bytes.size() < 4)
        throw Error(where + ": truncated IDX header (" + std::to_string(bytes.size()) + " bytes)");
    const int n = checkMagic(p, where);
    const std::size_t header = 4 + 4 * static_cast<std::size_t>(n);
    if (bytes.size() < header)
        throw Error(where + ": truncated IDX header: " + std::to_string(n) +
                    " dimensions need " + std::to_string(header) + " bytes, the file has " +
                    std::to_string(bytes.size()));
    IdxArray a;
    const std::uint64_t payload = readDims(p + 4, n, a.dims, limit, where);
    const std::uint64_t have = bytes.size() - header;
    if (have < payload)
        throw Error(where + ": truncated IDX data: the header declares " + std::to_string(payload) +
                    " bytes after offset " + std::to_string(header) + ", the file has " +
                    std::to_string(have));
    if (have > payload)
        throw Error(where + ": " + std::to_string(have - payload) +
                    " unexpected bytes after the IDX data at offset " +
                    std::to_string(header + payload));
    a.values.assign(p + header, p + header + payload);
    return a;
}

IdxArray readIdx(const std::string& path, std::uint64_t limit)
{
    // gzread passes files without the gzip magic through unchanged, so one path reads both.
    std::unique_ptr<gzFile_s, GzCloser> f(gzopen(path.c_str(), "rb"));
    if (!f) throw Error(path + ": cannot open the file (" + std::strerror(errno) + ")");
    gzbuffer(f.get(), 1 << 17);
    std::uint8_t head[4 + 4 * kMaxDims];
    if (gzReadSome(f.get(), head, 4, path) < 4) throw Error(path + ": truncated IDX header");
    const int n = checkMagic(head, path);
    const std::size_t dimBytes = 4 * static_cast<std::size_t>(n);
    if (gzReadSome(f.get(), head + 4, dimBytes, path) < dimBytes)
        throw Error(path + ": truncated IDX header (" + std::to_string(n) + " dimensions)");
    IdxArray a;
    const std::uint64_t payload = readDims(head + 4, n, a.dims, limit, path);
    // The buffer grows as data arrives (16 MiB, then doubling): a short file whose header
    // declares up to the limit must not make us allocate and zero that much first.
    constexpr std::size_t kFirstPiece = std::size_t{1} << 24;
    std::size_t got = 0;
    while (got < payload) {
        const std::size_t want = static_cast<std::size_t>(
            std::min<std::uint64_t>(payload - got, std::max(kFirstPiece, got)));
        a.values.resize(got + want);
        const std::size_t read = gzReadSome(f.get(), a.values.data() + got, want, path);
        got += read;
        if (read < want) break;
    }
    if (got < payload)
        throw Error(path + ": truncated IDX data: the header declares " + std::to_string(payload) +
                    " bytes, the file holds " + std::to_string(got));
    std::uint8_t extra = 0;
    if (gzReadSome(f.get(), &extra, 1, path) != 0)
        throw Error(path + ": unexpected bytes after the " + std::to_string(payload) +
                    " bytes of IDX data the header declares");
    return a;
}

ImageSet loadImageSet(const std::string& imagesPath, const std::string& labelsPath, int classes)
{
    const IdxArray img = readIdx(imagesPath);
    const IdxArray lab = readIdx(labelsPath);
    if (img.dims.size() != 3)
        throw Error(imagesPath + ": expected images of 3 dimensions (count, rows, columns), not " +
                    std::to_string(img.dims.size()));
    if (lab.dims.size() != 1)
        throw Error(labelsPath + ": expected labels of 1 dimension, not " +
                    std::to_string(lab.dims.size()));
    if (img.dims[0] != lab.dims[0])
        throw Error(imagesPath + ": " + std::to_string(img.dims[0]) + " images but " +
                    labelsPath + " has " + std::to_string(lab.dims[0]) + " labels");
    for (std::size_t i = 0; i < lab.values.size(); ++i)
        if (lab.values[i] >= classes)
            throw Error(labelsPath + ": label " + std::to_string(lab.values[i]) + " of item " +
                        std::to_string(i) + " is not below " + std::to_string(classes));
    ImageSet s;
    s.count = img.dims[0];
    s.height = img.dims[1];
    s.width = img.dims[2];
    s.images.resize(img.values.size());
    std::transform(img.values.begin(), img.values.end(), s.images.begin(),
                   [](std::uint8_t v) { return static_cast<float>(v) / 255.0f; });
    s.labels = lab.values;
    return s;
}

namespace {
const char* const kFiles[] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                              "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
} // namespace

std::string datasetFile(const std::string& directory, const std::string& baseName)
{
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path gz = fs::path(directory) / (baseName + ".gz");
    if (fs::is_regular_file(gz, ec)) return gz.string();
    const fs::path plain = fs::path(directory) / baseName;
    if (fs::is_regular_file(plain, ec)) return plain.string();
    throw Error(directory + ": the dataset file " + baseName + " (or " + baseName +
                ".gz) is missing");
}

std::string resolveDatasetDirectory(const std::string& nameOrDirectory)
{
    namespace fs = std::filesystem;
    std::string dir = nameOrDirectory;
    if (nameOrDirectory == "fashion-mnist") {
        dir = "/usr/share/datasets/fashion-mnist";
        std::error_code ec;
        if (!fs::is_directory(dir, ec))
            throw Error("fashion-mnist: " + dir +
                        " does not exist; install the Debian package dataset-fashion-mnist or "
                        "name a directory holding the four IDX files");
    }
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        throw Error(dir + ": not a dataset name (fashion-mnist) or a directory");
    for (const char* f : kFiles)
        datasetFile(dir, f); // throws naming the first one missing
    return dir;
}

Dataset loadDataset(const std::string& nameOrDirectory)
{
    Dataset d;
    d.directory = resolveDatasetDirectory(nameOrDirectory);
    d.train = loadImageSet(datasetFile(d.directory, kFiles[0]), datasetFile(d.directory, kFiles[1]));
    d.test = loadImageSet(datasetFile(d.directory, kFiles[2]), datasetFile(d.directory, kFiles[3]));
    if (d.train.height != d.test.height || d.train.width != d.test.width)
        throw Error(d.directory + ": training images are " + std::to_string(d.train.height) + "x" +
                    std::to_string(d.train.width) + " but test images " +
                    std::to_string(d.test.height) + "x" + std::to_string(d.test.width));
    return d;
}

} // namespace qs::data
