// Reads HDF5 files through libhdf5: Keras 2 models and weights (.h5), Keras 3 archives
// (.keras) and any other HDF5 file's numeric datasets.
#pragma once

#include "io/model_reader.h"

namespace qs {

// Layouts, tried in this order:
// - Keras 2 full model ("model_weights" group with a "layer_names" attribute) or weights file
//   ("layer_names" on the root): tensors follow layer_names and each layer's "weight_names",
//   named by the weight name ("dense/kernel:0"); optimizer state is not listed. Format
//   "keras-h5"; metadata model_config (cut to 4 KiB), keras_version, backend.
// - Keras 3 archive (.keras: a zip with model.weights.h5, config.json, metadata.json): the
//   weights file is opened in place inside the archive; tensors are named by their path
//   ("layers/dense/vars/0"), the "optimizer" group is left out. Format "keras".
// - Any other HDF5 file: every numeric dataset, named by its path, in natural path order. A
//   file laid out like Keras 3 weights (".../vars/<i>") gets the Keras 3 channel rule and leaves
//   out its "optimizer" group too. Format "hdf5".
// Channel axes: see keras_layout.h; datasets outside Keras layouts use axis 0.
// Contiguous datasets are mapped in place; chunked, compressed and compact ones are decoded
// into memory when the model is opened (at most 4 GiB each). Datasets without numbers
// (strings, compound types, ...) are listed in the metadata entry "skipped_datasets".
// libhdf5 parses the file's structures itself: the superblock is checked up front, but a
// deliberately corrupted file can still make the library misbehave.
class Hdf5Reader : public ModelReader
{
public:
    std::string_view name() const override { return "hdf5"; }
    // The HDF5 signature (at byte 0, 512, 1024, ...), a zip whose first member is one a Keras 3
    // archive starts with, or the extensions .h5/.hdf5/.keras (claimed so that they get a
    // precise error).
    bool canOpen(const std::string& path) const override;
    // Reads the file in a child process first (see isolated_probe.h), then here.
    Model open(const std::string& path) const override;

private:
    Model openInProcess(const std::string& path) const;
};

} // namespace qs
