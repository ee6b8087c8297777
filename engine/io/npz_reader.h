// Reads NumPy .npz archives (np.savez, np.savez_compressed): one tensor per .npy member.
#pragma once

#include "io/model_reader.h"

namespace qs {

// Stored members are mapped in place; compressed members are inflated into memory when the
// archive is opened (within ZipLimits). Members that are not .npy files are skipped and listed
// in the metadata entry "skipped_members".
class NpzReader : public ModelReader
{
public:
    std::string_view name() const override { return "npz"; }
    // *.npz, or any zip whose first member is an .npy file.
    bool canOpen(const std::string& path) const override;
    Model open(const std::string& path) const override;
};

} // namespace qs
