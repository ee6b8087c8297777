#include "nn/keras_model.h"

#include "core/error.h"
#include "export/export_detail.h"
#include "io/hdf5_file.h"
#include "io/isolated_probe.h"
#include "io/mapped_file.h"
#include "nn/keras_config.h"

namespace qs::nn {
namespace {

using h5::Handle;

// The Keras release whose HDF5 layout these files follow; Keras reads it to decide whether
// weights need converting from Keras 1's layout, which "2." avoids.
constexpr const char* kKerasVersion = "2.13.1";

// A fixed-length, NUL-padded string type: what h5py writes for the byte strings Keras stores.
Handle stringType(std::size_t length)
{
    Handle t(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(t.get(), std::max<std::size_t>(length, 1));
    H5Tset_strpad(t.get(), H5T_STR_NULLPAD);
    return t;
}

void writeAttribute(hid_t object, const std::string& name, hid_t type, hid_t space,
                    const void* data, const std::string& where)
{
    Handle attr(h5::check(H5Acreate2(object, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT),
                          where, "cannot create the attribute '" + name + "'"),
                H5Aclose);
    if (H5Awrite(attr.get(), type, data) < 0)
        h5::fail(where, "cannot write the attribute '" + name + "'");
}

void writeString(hid_t object, const std::string& name, const std::string& value,
                 const std::string& where)
{
    Handle type = stringType(value.size());
    Handle space(H5Screate(H5S_SCALAR), H5Sclose);
    std::string padded = value;
    padded.resize(std::max<std::size_t>(value.size(), 1), '\0');
    writeAttribute(object, name, type.get(), space.get(), padded.data(), where);
}

// A list of strings as Keras writes "layer_names" and "weight_names"; an empty list is an
// empty float64 array, as numpy makes of [] (readers iterate over it and find nothing).
void writeStrings(hid_t object, const std::string& name, const std::vector<std::string>& values,
                  const std::string& where)
{
    const hsize_t n = values.size();
    Handle space(H5Screate_simple(1, &n, nullptr), H5Sclose);
    if (values.empty()) {
        const double none = 0;
        writeAttribute(object, name, H5T_IEEE_F64LE, space.get(), &none, where);
        return;
    }
    std::size_t width = 1;
    for (const auto& v : values)
        width = std::max(width, v.size());
    std::string buf(width * values.size(), '\0');
    for (std::size_t i = 0; i < values.size(); ++i)
        buf.replace(i * width, values[i].size(), values[i]);
    Handle type = stringType(width);
    writeAttribute(object, name, type.get(), space.get(), buf.data(), where);
}

Handle createGroup(hid_t parent, const std::string& name, const std::string& where)
{
    return Handle(h5::check(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                            where, "cannot create the group '" + name + "'"),
                  H5Gclose);
}

void writeWeights(hid_t root, const Sequential& model, const std::string& where)
{
    std::vector<std::string> layerNames;
    for (std::size_t i = 0; i < model.size(); ++i)
        layerNames.push_back(model.layer(i).name());
    Handle weights = createGroup(root, "model_weights", where);
    writeStrings(weights.get(), "layer_names", layerNames, where);
    writeString(weights.get(), "backend", "tensorflow", where);
    writeString(weights.get(), "keras_version", kKerasVersion, where);
    // "<layer>/kernel:0" inside the layer's group makes the nested group Keras has.
    Handle lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
    H5Pset_create_intermediate_group(lcpl.get(), 1);
    for (std::size_t i = 0; i < model.size(); ++i) {
        const Layer& layer = model.layer(i);
        Handle g = createGroup(weights.get(), layer.name(), where);
        std::vector<std::string> names;
        for (const Param* p : layer.params())
            names.push_back(layer.name() + "/" + p->name + ":0");
        writeStrings(g.get(), "weight_names", names, where);
        const auto ps = layer.params();
        for (std::size_t j = 0; j < ps.size(); ++j) {
            const std::vector<hsize_t> dims(ps[j]->shape.begin(), ps[j]->shape.end());
            Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                         H5Sclose);
            Handle ds(h5::check(H5Dcreate2(g.get(), names[j].c_str(), H5T_IEEE_F32LE, space.get(),
                                           lcpl.get(), H5P_DEFAULT, H5P_DEFAULT),
                                where, "cannot create the dataset of " + names[j]),
                      H5Dclose);
            if (H5Dwrite(ds.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                         ps[j]->value.data()) < 0)
                h5::fail(where, "cannot write " + names[j]);
        }
    }
}

// Reads one weight dataset into a parameter after checking its type and shape.
void readWeight(hid_t group, const std::string& weightName, Param& p, const std::string& where)
{
    const std::string what = "weight '" + weightName + "'";
    if (H5Lexists(group, weightName.c_str(), H5P_DEFAULT) <= 0) {
        // H5Lexists fails on a missing intermediate group; either way the weight is absent.
        H5Eclear2(H5E_DEFAULT);
        throw Error(where + ": the " + what + " listed in weight_names is missing");
    }
    Handle ds(h5::check(H5Dopen2(group, weightName.c_str(), H5P_DEFAULT), where, "cannot open the " + what),
              H5Dclose);
    Handle type(h5::check(H5Dget_type(ds.get()), where, "cannot read the type of the " + what), H5Tclose);
    if (H5Tget_class(type.get()) != H5T_FLOAT)
        throw Error(where + ": the " + what + " does not hold floating-point numbers");
    Handle space(h5::check(H5Dget_space(ds.get()), where, "cannot read the shape of the " + what),
                 H5Sclose);
    const int rank = H5Sget_simple_extent_ndims(space.get());
    Shape shape;
    if (rank > 0) {
        std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
        H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
        shape.assign(dims.begin(), dims.end());
    }
    if (rank < 0 || shape != p.shape)
        throw Error(where + ": the " + what + " has the shape " + shapeToString(shape) +
                    " but the model config makes it " + shapeToString(p.shape));
    if (H5Dread(ds.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, p.value.data()) < 0)
        h5::fail(where, "cannot read the values of the " + what);
}

void readWeights(hid_t root, Sequential& model, const std::string& where)
{
    if (H5Lexists(root, "model_weights", H5P_DEFAULT) <= 0)
        throw Error(where + ": there is no 'model_weights' group (not a Keras 2 model file)");
    Handle weights(h5::check(H5Gopen2(root, "model_weights", H5P_DEFAULT), where,
                             "cannot open the group 'model_weights'"),
                   H5Gclose);
    for (std::size_t i = 0; i < model.size(); ++i) {
        Layer& layer = model.layer(i);
        const auto params = layer.params();
        if (params.empty()) continue;
        const std::string& name = layer.name();
        if (H5Lexists(weights.get(), name.c_str(), H5P_DEFAULT) <= 0)
            throw Error(where + ": the weights of layer '" + name + "' are missing");
        Handle g(h5::check(H5Gopen2(weights.get(), name.c_str(), H5P_DEFAULT), where,
                           "cannot open the weights of layer '" + name + "'"),
                 H5Gclose);
        const auto names = h5::readKerasStringList(g.get(), "weight_names", where)
                               .value_or(std::vector<std::string>{});
        // Keras matches weights to a layer by their order, not their names.
        if (names.size() != params.size())
            throw Error(where + ": layer '" + name + "' has " + std::to_string(names.size()) +
                        " weights in the file but needs " + std::to_string(params.size()));
        for (std::size_t j = 0; j < names.size(); ++j)
            readWeight(g.get(), names[j], *params[j], where);
    }
}

Sequential loadInProcess(const std::string& path)
{
    MappedFile file(path);
    h5::Session session;
    Handle f = h5::openImage(file.bytes(), path);
    if (!h5::hasAttribute(f.get(), "model_config"))
        throw Error(path + ": no 'model_config' attribute: not a Keras 2 model file (weights-only "
                           "files do not describe the model)");
    const auto config = h5::readStrings(f.get(), "model_config", path);
    if (config.size() != 1) throw Error(path + ": the 'model_config' attribute is not one string");
    Sequential model = sequentialFromKerasConfig(config.front(), path);
    readWeights(f.get(), model, path);
    return model;
}

} // namespace

Sequential loadKerasModel(const std::string& path)
{
    // libhdf5 walks the file's headers, heaps and B-trees itself and can crash or never return
    // on a damaged file (one spun in H5HG_read reading model_config). As model files and
    // sessions are, the file is read in a child process first, and here only if that survives.
    probeInChildProcess(path, "libhdf5", ProbeKind::KerasModel, [&] { (void)loadInProcess(path); });
    return loadInProcess(path);
}

void saveKerasModel(const Sequential& model, const std::string& path)
{
    const std::string config = kerasModelConfig(model).dump();
    exporting::PartFile part(path, ".part", false);
    {
        h5::Session session;
        Handle f(h5::check(H5Fcreate(part.path().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT),
                           path, "cannot create the file"),
                 H5Fclose);
        writeString(f.get(), "backend", "tensorflow", path);
        writeString(f.get(), "keras_version", kKerasVersion, path);
        writeString(f.get(), "model_config", config, path);
        writeWeights(f.get(), model, path);
        if (H5Fflush(f.get(), H5F_SCOPE_GLOBAL) < 0) h5::fail(path, "cannot write the file");
    }
    part.commit();
}

} // namespace qs::nn
