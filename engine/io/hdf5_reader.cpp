#include "io/hdf5_reader.h"

#include "io/isolated_probe.h"

#include "core/error.h"
#include "io/hdf5_dataset.h"
#include "io/hdf5_file.h"
#include "io/keras_layout.h"
#include "io/mapped_file.h"
#include "io/zip_archive.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

namespace qs {
namespace {

using h5::Handle;

constexpr std::string_view kKerasWeights = "model.weights.h5";

std::string lower(std::string s)
{
    for (char& c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// "vars/2" before "vars/10": digit runs compare by value, the rest byte by byte.
bool naturalLess(const std::string& a, const std::string& b)
{
    std::size_t i = 0, j = 0;
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    while (i < a.size() && j < b.size()) {
        if (digit(a[i]) && digit(b[j])) {
            std::size_t ie = i, je = j;
            while (ie < a.size() && digit(a[ie]))
                ++ie;
            while (je < b.size() && digit(b[je]))
                ++je;
            std::size_t is = i, js = j; // skip leading zeros
            while (is + 1 < ie && a[is] == '0')
                ++is;
            while (js + 1 < je && b[js] == '0')
                ++js;
            if (ie - is != je - js) return ie - is < je - js;
            const int c = a.compare(is, ie - is, b, js, je - js);
            if (c != 0) return c < 0;
            i = ie, j = je;
        } else {
            if (a[i] != b[j])
                return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]);
            ++i, ++j;
        }
    }
    if (a.size() - i != b.size() - j) return a.size() - i < b.size() - j;
    return a < b;
}

template <class Info> herr_t collectDataset(hid_t, const char* name, const Info* info, void* data)
{
    if (info->type == H5O_TYPE_DATASET)
        static_cast<std::vector<std::string>*>(data)->emplace_back(name);
    return 0;
}

std::vector<std::string> datasetPaths(hid_t file, const std::string& where)
{
    std::vector<std::string> paths;
#if H5_VERSION_GE(1, 12, 0)
    const herr_t r = H5Ovisit3(file, H5_INDEX_NAME, H5_ITER_INC, collectDataset<H5O_info2_t>,
                               &paths, H5O_INFO_BASIC);
#else
    const herr_t r = H5Ovisit2(file, H5_INDEX_NAME, H5_ITER_INC, collectDataset<H5O_info_t>, &paths,
                               H5O_INFO_BASIC);
#endif
    if (r < 0) h5::fail(where, "cannot list the file's groups and datasets");
    std::sort(paths.begin(), paths.end(), naturalLess);
    return paths;
}

bool isGroup(hid_t loc, const std::string& name)
{
    if (H5Lexists(loc, name.c_str(), H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return false;
    }
    Handle obj(H5Oopen(loc, name.c_str(), H5P_DEFAULT), H5Oclose);
    if (!obj.valid()) {
        H5Eclear2(H5E_DEFAULT);
        return false;
    }
    return H5Iget_type(obj.get()) == H5I_GROUP;
}

// A string attribute for the metadata; absent or unreadable ones are left out.
void stringMetadata(Model& model, hid_t object, const std::string& attr, const std::string& key,
                    const std::string& where)
{
    if (model.metadata.count(key) || !h5::hasAttribute(object, attr)) return;
    try {
        const auto values = h5::readStrings(object, attr, where);
        if (values.size() == 1) model.metadata[key] = metadataText(values.front());
    } catch (const Error&) {
        // Metadata is a courtesy; the tensors are what the file is opened for.
    }
}

void noteSkipped(std::string& list, const std::string& path, const std::string& reason)
{
    list += (list.empty() ? "" : ", ") + path + " (" + reason + ")";
}

// Keras 2: tensors in layer_names / weight_names order, named by their weight names.
void readKeras2(h5::ImageContext& ctx, hid_t file, hid_t weights, const std::string& prefix,
                const std::map<std::string, std::string>& classes, std::string& skipped)
{
    const std::string& where = ctx.where;
    const auto layers =
        h5::readKerasStringList(weights, "layer_names", where).value_or(std::vector<std::string>{});
    std::set<std::string> names;
    for (const auto& layer : layers) {
        if (!isGroup(weights, layer))
            throw Error(where + ": layer '" + layer +
                        "' is listed in layer_names but has no group");
        Handle group(h5::check(H5Gopen2(weights, layer.c_str(), H5P_DEFAULT), where,
                               "cannot open the group of layer '" + layer + "'"),
                     H5Gclose);
        const auto weightNames = h5::readKerasStringList(group.get(), "weight_names", where)
                                     .value_or(std::vector<std::string>{});
        const auto cls = classes.find(layer);
        const std::string layerClass = cls == classes.end() ? std::string() : cls->second;
        for (const auto& weight : weightNames) {
            const std::string path = prefix + layer + "/" + weight;
            if (H5Lexists(group.get(), weight.c_str(), H5P_DEFAULT) <= 0) {
                H5Eclear2(H5E_DEFAULT);
                throw Error(where + ": weight '" + weight + "' of layer '" + layer +
                            "' is listed in weight_names but has no dataset");
            }
            std::string reason;
            auto t = h5::datasetTensor(ctx, file, path, reason);
            if (!t) {
                noteSkipped(skipped, path, reason);
                continue;
            }
            // Weight names are unique within a model; a nested model can repeat one.
            t->name = weight;
            if (names.count(t->name)) t->name = layer + "/" + weight;
            if (names.count(t->name)) t->name = path;
            names.insert(t->name);
            t->channelAxis = keras2ChannelAxis(weight, t->shape.size(), layerClass);
            ctx.model.tensors.push_back(std::move(*t));
        }
    }
}

// Any other layout: every numeric dataset by its path. keras3: the file is (or looks like)
// Keras 3 weights, so variables get Keras 3 channel axes and optimizer state is left out.
void readDatasets(h5::ImageContext& ctx, hid_t file, bool keras3,
                  const std::map<std::string, std::string>& classes, std::string& skipped)
{
    const auto paths = datasetPaths(file, ctx.where);
    if (!keras3)
        keras3 = std::any_of(paths.begin(), paths.end(), [](const std::string& p) {
            return keras3VariableLayer(p).has_value();
        });
    std::size_t optimizerState = 0;
    for (const auto& path : paths) {
        if (keras3 && path.rfind("optimizer/", 0) == 0) {
            ++optimizerState;
            continue;
        }
        std::string reason;
        auto t = h5::datasetTensor(ctx, file, path, reason);
        if (!t) {
            noteSkipped(skipped, path, reason);
            continue;
        }
        if (keras3)
            if (const auto layer = keras3VariableLayer(path)) {
                const auto cls = classes.find(*layer);
                t->channelAxis =
                    keras3ChannelAxis(t->shape.size(), cls == classes.end() ? "" : cls->second);
            }
        ctx.model.tensors.push_back(std::move(*t));
    }
    if (keras3) ctx.model.metadata["keras_layout"] = "Keras 3 weights";
    if (optimizerState)
        ctx.model.metadata["skipped_optimizer_state"] =
            std::to_string(optimizerState) + " datasets under optimizer/";
}

// Reads the HDF5 image ctx describes into ctx.model; archiveClasses is set for .keras files.
void readImage(h5::ImageContext& ctx, std::span<const std::byte> image,
               const std::map<std::string, std::string>* archiveClasses)
{
    const h5::Session session;
    const std::string& where = ctx.where;
    const Handle file = h5::openImage(image, where);
    Handle root(
        h5::check(H5Gopen2(file.get(), "/", H5P_DEFAULT), where, "cannot open the root group"),
        H5Gclose);
    Model& model = ctx.model;
    std::string skipped;
    if (archiveClasses) {
        readDatasets(ctx, file.get(), true, *archiveClasses, skipped);
    } else {
        Handle weights;
        std::string prefix;
        if (isGroup(root.get(), "model_weights")) {
            weights = Handle(h5::check(H5Gopen2(root.get(), "model_weights", H5P_DEFAULT), where,
                                       "cannot open the group 'model_weights'"),
                             H5Gclose);
            if (h5::hasAttribute(weights.get(), "layer_names") ||
                h5::hasAttribute(weights.get(), "layer_names0"))
                prefix = "model_weights/";
            else
                weights.reset();
        }
        if (!weights.valid() && (h5::hasAttribute(root.get(), "layer_names") ||
                                 h5::hasAttribute(root.get(), "layer_names0")))
            weights = Handle(h5::check(H5Gopen2(root.get(), "/", H5P_DEFAULT), where,
                                       "cannot open the root group"),
                             H5Gclose);
        if (weights.valid()) {
            model.format = "keras-h5";
            model.metadata["keras_layout"] = prefix.empty() ? "Keras 2 weights" : "Keras 2 model";
            stringMetadata(model, root.get(), "model_config", "model_config", where);
            for (hid_t obj : {root.get(), weights.get()}) {
                stringMetadata(model, obj, "keras_version", "keras_version", where);
                stringMetadata(model, obj, "backend", "backend", where);
            }
            // The metadata copy may be cut short: parse the attribute itself.
            std::map<std::string, std::string> layerClasses;
            if (model.metadata.count("model_config")) try {
                    const auto full = h5::readStrings(root.get(), "model_config", where);
                    if (full.size() == 1) layerClasses = kerasLayerClasses(full.front());
                } catch (const Error&) {
                }
            readKeras2(ctx, file.get(), weights.get(), prefix, layerClasses, skipped);
        } else {
            readDatasets(ctx, file.get(), false, {}, skipped);
        }
    }
    if (!skipped.empty()) model.metadata["skipped_datasets"] = metadataText(skipped);
}

std::string memberText(const ZipArchive& zip, std::string_view name)
{
    const ZipMember* m = zip.find(name);
    if (!m || m->size > (std::uint64_t{64} << 20)) return {};
    const ZipMemberData data = zip.read(*m); // keeps an inflated member's buffer alive
    const auto bytes = data.bytes();
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

void readKerasArchive(Model& model, const std::shared_ptr<const MappedFile>& file)
{
    const std::string& path = model.path;
    const ZipArchive zip(file);
    const ZipMember* member = zip.find(kKerasWeights);
    if (!member)
        throw Error(path + ": not a Keras archive: it has no member '" +
                    std::string(kKerasWeights) + "'");
    const ZipMemberData data = zip.read(*member);
    h5::ImageContext ctx{model, path + ": member '" + std::string(kKerasWeights) + "'"};
    if (data.source != file) {
        ctx.fileIndex = static_cast<int>(model.files.size());
        model.files.push_back(data.source);
    }
    ctx.imageOffset = data.offset;
    ctx.imageSize = data.size;
    model.format = "keras";

    const std::string config = memberText(zip, "config.json");
    const auto classes = kerasLayerClasses(config);
    if (!config.empty()) model.metadata["model_config"] = metadataText(config);
    const auto meta = nlohmann::json::parse(memberText(zip, "metadata.json"), nullptr, false);
    if (meta.is_object() && meta.contains("keras_version") && meta["keras_version"].is_string())
        model.metadata["keras_version"] = meta["keras_version"].get<std::string>();
    readImage(ctx, data.bytes(), &classes);
}

} // namespace

bool Hdf5Reader::canOpen(const std::string& path) const
{
    const std::string ext = lower(std::filesystem::path(path).extension().string());
    if (ext == ".h5" || ext == ".hdf5" || ext == ".keras") return true;
    try {
        const MappedFile file(path);
        if (h5::findSignature(file.bytes())) return true;
        const auto first = firstZipMemberName(file.bytes());
        return first &&
               (*first == "metadata.json" || *first == "config.json" || *first == kKerasWeights);
    } catch (const Error&) {
        return false;
    }
}

Model Hdf5Reader::open(const std::string& path) const
{
    // libhdf5 walks object headers, heaps and B-trees itself and can crash on a hostile file
    // (a corrupted global heap made it overlap a memcpy and fault). Read the file once in a
    // child process; only when that survives is it read here.
    probeInChildProcess(path, "libhdf5", ProbeKind::Hdf5Model, [&] { (void)openInProcess(path); });
    return openInProcess(path);
}

Model Hdf5Reader::openInProcess(const std::string& path) const
{
    auto file = std::make_shared<const MappedFile>(path);
    Model model;
    model.path = path;
    model.files.push_back(file);
    if (looksLikeZip(file->bytes())) {
        readKerasArchive(model, file);
        return model;
    }
    model.format = "hdf5";
    h5::ImageContext ctx{model, path};
    ctx.imageSize = file->size();
    readImage(ctx, file->bytes(), nullptr);
    return model;
}

} // namespace qs
