// Keras conventions the HDF5 reader relies on: layer classes from a model config, and which
// axis of a weight holds the output channels.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace qs {

// Layer name -> class name ("dense" -> "Dense") for every layer a Keras model config (Keras 2
// "model_config" attribute, Keras 3 config.json) describes, nested models included. Empty when
// the text is not JSON.
std::map<std::string, std::string> kerasLayerClasses(std::string_view configJson);

// Output-channel axis of a Keras 2 weight named like "dense/kernel:0". Keras keeps kernels as
// [..., in, out] (Dense [in, out], Conv2D [kh, kw, in, out]): kernels use the last axis, and the
// transposed convolutions, whose kernels are [..., out, in], the one before it. Everything else
// (biases, batch-norm statistics, embeddings) uses axis 0. layerClass may be empty.
int keras2ChannelAxis(std::string_view weightName, std::size_t rank, std::string_view layerClass);

// Output-channel axis of a Keras 3 variable ("layers/<layer>/vars/<i>"), which carries no
// name: variables of rank 2 and more are kernels and use their last axis, except those of
// Embedding layers (axis 0, one row per token) and of transposed convolutions (the axis before
// the last). Variables of rank 0 and 1 use axis 0.
int keras3ChannelAxis(std::size_t rank, std::string_view layerClass);

// The layer a Keras 3 variable path belongs to: "layers/dense/vars/0" -> "dense", "vars/0" ->
// ""; nullopt when the path does not end in "vars/<digits>" (not a Keras 3 variable).
std::optional<std::string> keras3VariableLayer(std::string_view path);

// Text for a metadata entry: long texts are cut to `limit` bytes with a note of their length.
std::string metadataText(std::string text, std::size_t limit = 4096);

} // namespace qs
