// Where the bundled example model is, installed or in the source tree.
#pragma once

#include <QString>

namespace qs {

// The installed copy next to the executable wins over the build's source tree; empty when
// neither exists.
QString findExampleModel();
// The model the app opens without an argument: the bundled Fashion-MNIST classifier, which the
// Accuracy page can run; the transformer-shaped example when it is missing.
QString findDefaultModel();

} // namespace qs
