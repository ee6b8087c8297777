// Reads NumPy .npy files (format versions 1.0, 2.0, 3.0) and parses .npy headers for .npz members.
#pragma once

#include "core/tensor.h"
#include "io/model_reader.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace qs {

// What an .npy header says about the array that follows it.
struct NpyArray
{
    int majorVersion = 1, minorVersion = 0;
    std::string descr; // the dtype as NumPy spells it: "<f4", "|b1", ">f8"
    DType dtype = DType::F32;
    bool bigEndian = false;
    bool fortranOrder = false;
    Shape shape;
    std::uint64_t dataOffset = 0; // from the start of the .npy bytes
    std::uint64_t dataSize = 0;   // numel x element size
};

// True when the bytes start with the .npy magic "\x93NUMPY".
bool hasNpyMagic(std::span<const std::byte> bytes);

// Parses and validates the header of the .npy content in `bytes` and checks that the data the
// shape needs is there. Throws qs::Error("<where>: <problem>"); `where` names the file (and the
// archive member).
NpyArray parseNpy(std::span<const std::byte> bytes, const std::string& where);

// The tensor for an array whose .npy content begins at byte `base` of Model::files[fileIndex]:
// data in place, Fortran order expressed as column-major strides, output channels on axis 0.
TensorInfo npyTensor(const NpyArray& array, std::string name, int fileIndex, std::uint64_t base);

class NpyReader : public ModelReader
{
public:
    std::string_view name() const override { return "npy"; }
    // The magic decides; a *.npy file without it is claimed too, so that it gets a precise error.
    bool canOpen(const std::string& path) const override;
    Model open(const std::string& path) const override;
};

} // namespace qs
