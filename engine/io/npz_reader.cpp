#include "io/npz_reader.h"

#include "core/error.h"
#include "io/mapped_file.h"
#include "io/npy_reader.h"
#include "io/zip_archive.h"

#include <filesystem>
#include <set>

namespace qs {
namespace {

constexpr std::string_view kNpy = ".npy";

bool endsWith(std::string_view s, std::string_view suffix)
{
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

} // namespace

bool NpzReader::canOpen(const std::string& path) const
{
    if (std::filesystem::path(path).extension() == ".npz") return true;
    try {
        const MappedFile file(path);
        const auto first = firstZipMemberName(file.bytes());
        return first && endsWith(*first, kNpy);
    } catch (const Error&) {
        return false;
    }
}

Model NpzReader::open(const std::string& path) const
{
    auto file = std::make_shared<const MappedFile>(path);
    const ZipArchive zip(file);
    Model model;
    model.path = path;
    model.format = "npz";
    model.files.push_back(file);

    std::set<std::string> names;
    std::string skipped;
    for (const ZipMember& m : zip.members()) {
        if (!endsWith(m.name, kNpy) || m.name.size() == kNpy.size()) {
            skipped += (skipped.empty() ? "" : ", ") + m.name;
            continue;
        }
        std::string name = m.name.substr(0, m.name.size() - kNpy.size());
        if (!names.insert(name).second)
            throw Error(path + ": member '" + m.name + "' appears more than once");
        const ZipMemberData data = zip.read(m);
        int fileIndex = 0;
        if (data.source != file) { // inflated: the buffer becomes one of the model's files
            fileIndex = static_cast<int>(model.files.size());
            model.files.push_back(data.source);
        }
        const NpyArray array = parseNpy(data.bytes(), path + ": member '" + m.name + "'");
        model.tensors.push_back(npyTensor(array, std::move(name), fileIndex, data.offset));
    }
    if (!skipped.empty()) model.metadata["skipped_members"] = skipped;
    return model;
}

} // namespace qs
